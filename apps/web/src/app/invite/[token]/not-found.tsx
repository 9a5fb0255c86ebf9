import Link from "next/link";

/** An invite link that does not work (any reason: 404). */
export default function InviteNotFound() {
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <p className="eyebrow">Invite link</p>
      <h1 className="mt-2 text-3xl">This door is closed</h1>
      <p className="mt-3 text-muted" data-testid="invite-error">
        This invite link does not work: it may be mistyped, revoked by the room&apos;s owner, expired or used up. Ask
        for a new one.
      </p>
      <Link href="/dashboard" className="btn btn-primary mt-8">
        Go to your studio
      </Link>
    </main>
  );
}
