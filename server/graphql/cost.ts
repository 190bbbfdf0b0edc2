import {
  getNamedType,
  GraphQLError,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";

/**
 * Prices of fields whose cost is not their shape (docs/security.md, "Query cost"). graphql-armor's cost rule
 * counts the shape of an operation; `pricedFieldsCheck` adds these prices to armor's count, and the sum must stay
 * within QUERY_LIMITS.maxCost. A price is multiplied by the page size of every connection above the field
 * (its `first`, 20 without one, 100 when it is a variable).
 */
export const EXPENSIVE_FIELD_COST: Record<string, number> = {
  /** Reads the live Y.Doc (stored state + update log) and decodes it: the costliest read we serve. */
  "Workflow.export": 1_500,
  /** Replays up to 2,000 logged updates and decodes the definition per author's stretch of them (attribution). */
  "Workflow.changesSincePublished": 2_000,
  /** The materialised definition and the run's captured one: JSON up to the document cap, read per parent. */
  "Workflow.definition": 100,
  "Run.definition": 100,
  /** One query per run, every attempt's input and output. */
  "Run.steps": 50,
};

/** The `first` a connection is priced at when it comes from a variable (validation does not see variables). */
const UNKNOWN_FIRST = 100;
/** A connection without `first` returns a page of this many (PageArgs in @algorythmos/domain). */
const DEFAULT_FIRST = 20;

/** How many items a field returns at most, as far as the document tells: 1 for anything but a connection. */
function itemsOf(field: FieldNode, type: GraphQLNamedType): number {
  if (!type.name.endsWith("Connection")) return 1;
  const first = field.arguments?.find((arg) => arg.name.value === "first" || arg.name.value === "last");
  if (!first) return DEFAULT_FIRST;
  if (first.value.kind === Kind.INT) return Math.max(1, Number.parseInt(first.value.value, 10) || 1);
  return UNKNOWN_FIRST;
}

/** The priced cost of a selection set on `type`; fragments are followed once per path (cycles are refused elsewhere). */
function pricedCost(context: ValidationContext, type: GraphQLObjectType, selections: SelectionSetNode, seen: Set<string>): number {
  let cost = 0;
  for (const selection of selections.selections) {
    if (selection.kind === Kind.FIELD) {
      const definition = type.getFields()[selection.name.value];
      if (!definition) continue;
      cost += EXPENSIVE_FIELD_COST[`${type.name}.${selection.name.value}`] ?? 0;
      const child = getNamedType(definition.type);
      if (selection.selectionSet && isObjectType(child)) cost += itemsOf(selection, child) * pricedCost(context, child, selection.selectionSet, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) : type;
      if (isObjectType(on)) cost += pricedCost(context, on, selection.selectionSet, seen);
    } else {
      const name = selection.name.value;
      const fragment = context.getFragment(name);
      if (!fragment || seen.has(name)) continue;
      const on = context.getSchema().getType(fragment.typeCondition.name.value);
      if (isObjectType(on)) cost += pricedCost(context, on, fragment.selectionSet, new Set([...seen, name]));
    }
  }
  return cost;
}

export function operationPricedCost(context: ValidationContext, operation: OperationDefinitionNode): number {
  const root = context.getSchema().getRootType(operation.operation);
  return root ? pricedCost(context, root, operation.selectionSet, new Set()) : 0;
}

/**
 * An `onAccept` callback for armor's costLimit: armor calls it once per operation, in document order, with the
 * operation's shape cost `n`; the operation is refused when `n` plus its priced fields exceeds `maxCost`.
 */
export function pricedFieldsCheck(maxCost: number): (context: ValidationContext | null, details: { n: number }) => void {
  const visited = new WeakMap<ValidationContext, number>();
  return (context, { n }) => {
    if (!context) return;
    const index = visited.get(context) ?? 0;
    visited.set(context, index + 1);
    const operations = context.getDocument().definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
    const operation = operations[index];
    if (!operation) return;
    const priced = operationPricedCost(context, operation);
    if (n + priced > maxCost) {
      context.reportError(
        new GraphQLError(`Query Cost limit of ${maxCost} exceeded, found ${Math.ceil(n + priced)} (${Math.ceil(priced)} of it for expensive fields such as Workflow.export).`, {
          nodes: [operation],
        }),
      );
    }
  };
}
