/**
 * The engine-step registry: which step types the walk hands to a handler (the contract, and the helpers a
 * handler uses, are in engine-step-contract.ts, so a handler never imports this registry).
 */
import { agentStep } from "./agent.js";
import { approvalStep } from "./approval.js";
import { callStep } from "./call.js";
import { delayStep } from "./delay.js";
import type { EngineStepHandler } from "./engine-step-contract.js";

export * from "./engine-step-contract.js";

export const engineSteps: Partial<Record<string, EngineStepHandler>> = {
  delay: delayStep,
  "workflow.call": callStep,
  approval: approvalStep,
  "ai.agent": agentStep,
};

export function engineStepHandler(type: string): EngineStepHandler | undefined {
  return Object.hasOwn(engineSteps, type) ? engineSteps[type] : undefined;
}

