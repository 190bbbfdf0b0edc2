import type { StepType } from "@algorythmos/domain";
import { aiAgent } from "../agent/executor.js";
import { approvalExecutor } from "./approval.js";
import { code } from "./code.js";
import { condition } from "./condition.js";
import { delay } from "./delay.js";
import { emailPostmark } from "./email-postmark.js";
import { httpRequest } from "./http-request.js";
import { loop } from "./loop.js";
import { openaiChat } from "./openai-chat.js";
import { switchStep } from "./switch.js";
import { transform } from "./transform.js";
import { trigger } from "./trigger.js";
import type { Executor } from "./types.js";
import { workflowCallExecutor } from "./workflow-call.js";

/** Every domain step type has exactly one executor (the `satisfies` makes a missing one a type error). */
export const executors: { [T in StepType]: Executor<T> } = {
  "trigger.manual": trigger,
  "trigger.webhook": trigger,
  "trigger.cron": trigger,
  "http.request": httpRequest,
  "openai.chat": openaiChat,
  "email.postmark": emailPostmark,
  transform,
  condition,
  delay,
  "workflow.call": workflowCallExecutor,
  approval: approvalExecutor,
  code,
  "ai.agent": aiAgent,
  loop,
  switch: switchStep,
};

export type { Executor, ExecutorArgs, ExecutorResult, RunContext } from "./types.js";
