import type { PresenceUser } from "~/lib/collab";

/** Who has this workflow open right now, from y-websocket awareness. */
export function Presence({ people, myId }: { people: PresenceUser[]; myId: string }) {
  return (
    <ul className="presence" data-testid="presence" aria-label="People here">
      {people.map((person) => (
        <li key={person.id} title={person.name}>
          <span className="avatar" style={{ background: person.color }} aria-hidden="true">
            {person.name.trim().charAt(0).toUpperCase() || "?"}
          </span>
          <span className="presence-name">{person.name}</span>
          {person.id === myId ? <span className="muted"> (you)</span> : null}
        </li>
      ))}
    </ul>
  );
}
