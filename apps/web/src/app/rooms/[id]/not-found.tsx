import Link from "next/link";

/** A room that does not exist or that the visitor is not a member of (both: 404). */
export default function RoomNotFound() {
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <p className="eyebrow">Room</p>
      <h1 className="mt-2 text-3xl">No such room here</h1>
      <p className="mt-3 text-muted" data-testid="room-not-found">
        It may have been deleted, the link may be mistyped, or you are not a member: ask its owner for an invite link.
      </p>
      <Link href="/dashboard" className="btn btn-primary mt-8">
        Back to your studio
      </Link>
    </main>
  );
}
