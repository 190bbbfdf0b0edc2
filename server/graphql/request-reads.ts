import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { LiveWorkflowReads } from "../services/workflows.js";

/**
 * Gives each query operation its own LiveWorkflowReads, so every alias of `workflow { export }` in one request
 * shares one decode of the document. Mutations get none: a field may change a document another field then reads.
 */
export function perQueryReads(): Plugin<{ liveReads?: LiveWorkflowReads }> {
  return {
    onExecute({ args, extendContext }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation === "query") extendContext({ liveReads: new Map() });
    },
  };
}
