import { FIELD_LABELS, ROOM_FIELDS, settingText, type RunParams } from "@atelier/protocol";

/** Every setting the run used, in the document's order, named and worded as the studio names them. */
export function ParamsTable({ params }: { params: RunParams }) {
  const rows = ROOM_FIELDS.flatMap((field) => {
    const text = settingText(field, params);
    return text === null ? [] : [{ field, label: FIELD_LABELS[field], text }];
  });
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
