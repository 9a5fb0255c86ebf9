/** An error message announced to screen readers; nothing when there is no message. */
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
      {message}
    </p>
  );
}
