import Link from "next/link";
import { currentUser } from "@/server/page-session";
import { SignOutButton } from "./sign-out-button";
import { colorOf } from "@atelier/protocol";
import { Avatar } from "./avatar";

export async function SiteHeader() {
  const user = await currentUser();
  return (
    <header className="sticky top-0 z-30 border-b border-line/80 bg-canvas/90 backdrop-blur">
      <nav
        aria-label="Main"
        className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-2 gap-y-1 px-5 py-3 sm:h-16 sm:py-0"
      >
        <Link href="/" className="mr-3 flex items-center gap-2 rounded-md">
          <LogoMark />
          <span className="font-serif text-xl font-semibold tracking-tight">Atelier</span>
        </Link>
        <div className="order-3 -ml-3 flex w-full items-center gap-1 text-sm sm:order-none sm:ml-0 sm:w-auto sm:flex-1">
          <Link href="/gallery" className="btn btn-ghost btn-sm">
            Gallery
          </Link>
          {user && (
            <>
              <Link href="/dashboard" className="btn btn-ghost btn-sm">
                Studio
              </Link>
              <Link href="/styles" className="btn btn-ghost btn-sm">
                Styles
              </Link>
            </>
          )}
        </div>
        {user ? (
          <div className="ml-auto flex items-center gap-2 sm:ml-0">
            <span className="hidden items-center gap-2 text-sm text-muted sm:flex" data-testid="signed-in-as">
              <Avatar name={user.name} color={colorOf(user.id)} size={28} />
              {user.name}
            </span>
            <SignOutButton />
          </div>
        ) : (
          <div className="ml-auto flex items-center gap-2 sm:ml-0">
            <Link href="/signin" className="btn btn-ghost btn-sm">
              Sign in
            </Link>
            <Link href="/signup" className="btn btn-primary btn-sm">
              Get started
            </Link>
          </div>
        )}
      </nav>
    </header>
  );
}

function LogoMark() {
  // a palette: a dab of accent on ink
  return (
    <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">
      <path
        d="M16 3C8.3 3 3 8.4 3 15.1 3 22.4 8.6 29 15.6 29c2.6 0 3.4-1.6 3.1-3.4-.3-1.9.5-3.3 2.5-3.3h2.6C26.6 22.3 29 20 29 16.4 29 8.8 23.6 3 16 3Z"
        fill="#211d18"
      />
      <circle cx="10" cy="13" r="2.4" fill="#b0502a" />
      <circle cx="15.5" cy="8.8" r="2.1" fill="#e0b25c" />
      <circle cx="21.5" cy="11" r="2.1" fill="#7d9a86" />
      <circle cx="10.5" cy="20" r="2.1" fill="#f6f2ea" />
    </svg>
  );
}
