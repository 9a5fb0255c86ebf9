import Link from "next/link";
import { InviteJoinButton } from "@/components/invite-join";
import { authPagePath } from "@/lib/paths";
import type { InviteSummary } from "@/server/invite-landing";

const ROLE_WORDS: Record<InviteSummary["role"], string> = {
  editor: "an editor: you can change the settings, start runs and save results",
  viewer: "a viewer: you can watch the painting and its settings live",
};

/**
 * An invite: which room, from whom, with what role. Signed in, one "Join" (a POST); signed out,
 * sign in or up and come back here to join.
 */
export function InviteLanding({
  invite,
  returnTo,
  token,
  signedIn,
}: {
  invite: InviteSummary;
  returnTo: string;
  token: string;
  signedIn: boolean;
}) {
  return (
    <main
      className="mx-auto flex w-full max-w-lg flex-1 flex-col justify-center px-5 py-16"
      data-testid="invite-landing"
    >
      <p className="eyebrow">Invitation</p>
      <h1 className="mt-2 text-3xl break-words">
        {invite.inviterName} invited you to <span data-testid="invite-room">{invite.roomName}</span>
      </h1>
      <p className="mt-3 text-muted" data-testid="invite-role">
        You will join as {ROLE_WORDS[invite.role]}.
      </p>
      {signedIn ? (
        <div className="mt-8">
          <InviteJoinButton token={token} />
        </div>
      ) : (
        <>
          <div className="mt-8 flex flex-wrap gap-3">
            <Link href={authPagePath("signin", returnTo)} className="btn btn-primary">
              Sign in to join
            </Link>
            <Link href={authPagePath("signup", returnTo)} className="btn btn-ghost">
              Create an account
            </Link>
          </div>
          <p className="mt-4 text-sm text-faint">Either way you come back here to join the room.</p>
        </>
      )}
    </main>
  );
}
