import { labelTextColor, type PresenceUser } from "~/lib/collab";

/**
 * Who has this workflow open right now, from y-websocket awareness. Clicking someone else follows their
 * canvas view (until we pan or zoom ourselves); clicking them again stops.
 */
export function Presence({
  people,
  myId,
  following = null,
  onFollow,
}: {
  people: PresenceUser[];
  myId: string;
  following?: string | null;
  onFollow?(userId: string | null): void;
}) {
  return (
    <ul className="presence" data-testid="presence" aria-label="People here">
      {people.map((person) => {
        const avatar = (
          <span className="avatar" style={{ background: person.color, color: labelTextColor(person.color) }} aria-hidden="true">
            {person.name.trim().charAt(0).toUpperCase() || "?"}
          </span>
        );
        if (person.id === myId || !onFollow) {
          return (
            <li key={person.id} title={person.name}>
              {avatar}
              <span className="presence-name">{person.name}</span>
              {person.id === myId ? <span className="muted"> (you)</span> : null}
            </li>
          );
        }
        const isFollowed = following === person.id;
        return (
          <li key={person.id}>
            <button
              type="button"
              className={`presence-follow${isFollowed ? " following" : ""}`}
              style={isFollowed ? { boxShadow: `0 0 0 2px ${person.color}` } : undefined}
              aria-pressed={isFollowed}
              title={isFollowed ? `Following ${person.name}'s view — click or pan to stop` : `Follow ${person.name}'s view`}
              data-testid="follow-user"
              onClick={() => onFollow(isFollowed ? null : person.id)}
            >
              {avatar}
              <span className="presence-name">{person.name}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
