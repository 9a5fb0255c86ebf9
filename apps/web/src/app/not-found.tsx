import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <p className="eyebrow">404</p>
      <h1 className="mt-2 text-3xl">Nothing hangs here</h1>
      <p className="mt-3 text-muted">This page does not exist, or it is private.</p>
      <Link href="/gallery" className="btn btn-primary mt-8">
        Visit the gallery
      </Link>
    </main>
  );
}
