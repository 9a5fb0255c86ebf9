import NextAuth, { CredentialsSignin, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import { PrismaAdapter } from "@auth/prisma-adapter";
import { getDb } from "@atelier/db";
import { authSecret, oauthProvidersConfigured } from "./config";
import { clientIp } from "./http";
import { verifyCredentials } from "./accounts";
import { safeAuthRedirect } from "@/lib/safe-redirect";
import { notifySessionEnded } from "./membership-notify";
import { currentSessionVersion, endAllSessions, SESSION_VERSION_CLAIM } from "./session";

/*
 * next-auth v5. Sessions use the JWT strategy: the Credentials provider (email + password) only
 * works with JWT sessions, and one strategy for every provider keeps the session check the same
 * everywhere (see session.ts). The Prisma adapter still stores users and linked OAuth accounts
 * (GitHub, Google — switched on when their AUTH_*_ID/SECRET are set).
 * The config is built per request (the lazy form of NextAuth): `next build` imports this module
 * with no database and no secret.
 */

class InvalidCredentials extends CredentialsSignin {
  override code = "invalid_credentials";
}
class TooManyAttempts extends CredentialsSignin {
  override code = "rate_limited";
}

const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

async function buildConfig(): Promise<NextAuthConfig> {
  const db = await getDb();
  const oauth = oauthProvidersConfigured();
  return {
    // The adapter is typed against @prisma/client's default client; ours is the same models
    // generated to packages/db (prisma-client generator).
    adapter: PrismaAdapter(db),
    secret: authSecret(),
    trustHost: true,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      Credentials({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, request) {
          const outcome = await verifyCredentials(db, credentials ?? {}, clientIp(request.headers));
          if (outcome.ok) return outcome.user;
          throw outcome.reason === "rate_limited" ? new TooManyAttempts() : new InvalidCredentials();
        },
      }),
      ...(oauth.github ? [GitHub] : []),
      ...(oauth.google ? [Google] : []),
    ],
    callbacks: {
      // callbackUrl / redirectTo are the visitor's input: only same-origin paths
      redirect: ({ url, baseUrl }) => safeAuthRedirect(url, baseUrl),
      async jwt({ token, user }) {
        if (user?.id) {
          token.sub = user.id;
          token.name = user.name ?? token.name;
          // the session is valid while the user's session version stays what it is now
          token[SESSION_VERSION_CLAIM] = await currentSessionVersion(db, user.id);
        }
        return token;
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        return session;
      },
    },
    events: {
      // signing out ends every session of the user, including copies of this cookie
      async signOut(message) {
        const userId = "token" in message ? message.token?.sub : undefined;
        if (!userId) return;
        const generation = await endAllSessions(db, userId);
        // the realtime side: open sockets of older generations are dropped at once
        if (generation !== null) await notifySessionEnded(userId, generation);
      },
    },
  };
}

export const { handlers } = NextAuth(buildConfig);
