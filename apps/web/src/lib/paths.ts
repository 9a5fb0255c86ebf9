/** The sign-in (or sign-up) page that returns to `returnTo` afterwards. */
export function authPagePath(page: "signin" | "signup", returnTo: string): string {
  return `/${page}?callbackUrl=${encodeURIComponent(returnTo)}`;
}
