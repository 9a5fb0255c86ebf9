import { FIELD_LABELS, ROOM_FIELDS, settingText, type RoomField, type RunParams } from "@atelier/protocol";

/**
 * The rows of a run's settings, in the document's order, named and worded as the studio names
 * them. "Original colours" is left out: it is the older form of the colour control, whose row
 * already says what the run did with colours (it reads the flag when no colour control was set),
 * and two rows for one idea disagreed ("Original colours: no" beside "Photo's brightness only").
 */
export function settingRows(params: RunParams): Array<{ field: RoomField; label: string; text: string }> {
  return ROOM_FIELDS.flatMap((field) => {
    const text = field === "originalColors" ? null : settingText(field, params);
    return text === null ? [] : [{ field, label: FIELD_LABELS[field], text }];
  });
}

/** Every setting the run used. */
export function ParamsTable({ params }: { params: RunParams }) {
  const rows = settingRows(params);
  return (
    <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-6 gap-y-1.5 text-sm" data-testid="result-params">
      {rows.map(({ field, label, text }) => (
        <div key={field} className="contents">
          <dt className="text-muted">{label}</dt>
          <dd className="tabular-nums" data-testid={`result-param-${field}`}>
            {text}
          </dd>
        </div>
      ))}
    </dl>
  );
}
