import { sentenceCase } from "@/lib/sentence";

/** An error message announced to screen readers, as one sentence; nothing when there is no message. */
export function Alert({
  message,
  className = "text-sm",
  id,
  testId,
}: {
  message: string | null | undefined;
  /** size and spacing (the colour is always the danger colour) */
  className?: string;
  id?: string;
  testId?: string;
}) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className={`${className} text-danger`} data-testid={testId}>
      {sentenceCase(message)}
    </p>
  );
}
