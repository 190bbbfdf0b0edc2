/** Any other path: a 404 through the root error boundary (instead of Remix's logged "no route matches"). */
export const loader = () => {
  throw new Response("There is no page at this address.", { status: 404, statusText: "Not Found" });
};

export default function NotFound() {
  return null;
}
