declare module "autocannon" {
  const autocannon: (options: Record<string, unknown>) => import("node:events").EventEmitter;
  export default autocannon;
}
