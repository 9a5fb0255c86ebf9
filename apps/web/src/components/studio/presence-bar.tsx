"use client";

import { Avatar } from "../avatar";
import { FIELD_LABELS } from "@atelier/protocol";
import { useStudio } from "./context";

const STATUS: Record<string, { text: string; dot: string }> = {
  connecting: { text: "Connecting…", dot: "bg-faint" },
  joined: { text: "Live", dot: "bg-ok" },
  reconnecting: { text: "Reconnecting…", dot: "bg-[#d49a3a]" },
  error: { text: "Offline", dot: "bg-danger" },
};

/** Who is here, live: avatars in each member's colour; a ring and a label while they edit a field. */
export function PresenceBar() {
  const { state, me } = useStudio();
  const status = STATUS[state.status] ?? STATUS.connecting!;
  return (
    <div className="flex items-center gap-3" data-testid="presence-bar">
      <span
        className="inline-flex items-center gap-1.5 rounded-full border border-line bg-paper px-2.5 py-1 text-xs"
        role="status"
        data-testid="connection-status"
        data-status={state.status}
      >
        <span aria-hidden="true" className={`h-2 w-2 rounded-full ${status.dot}`} />
        {status.text}
      </span>
      <ul
        className="flex -space-x-1.5"
        aria-label={`${state.members.length} ${state.members.length === 1 ? "person" : "people"} in the room`}
      >
        {state.members.map((m) => {
          const editing = m.editingField ? ` — editing ${FIELD_LABELS[m.editingField]}` : "";
          const label = `${m.userId === me.userId ? `${m.name} (you)` : m.name}, ${m.role}${editing}`;
          return (
            <li
              key={m.userId}
              className="relative"
              title={label}
              data-testid="presence-member"
              data-user-id={m.userId}
              data-editing={m.editingField ?? ""}
            >
              <Avatar name={m.name} color={m.color} size={32} ring={!!m.editingField} />
              <span className="sr-only">{label}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
