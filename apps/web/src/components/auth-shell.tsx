import type { ReactNode } from "react";

/** The sign-in / sign-up frame: a quiet card beside a painted panel. */
export function AuthShell({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <main className="mx-auto grid w-full max-w-5xl flex-1 items-center gap-10 px-5 py-12 md:grid-cols-[1fr_minmax(0,26rem)]">
      <div className="hidden md:block" aria-hidden="true">
        <div className="painted-wash aspect-[4/5] w-full max-w-md rounded-[2rem]" />
      </div>
      <section className="card p-7 sm:p-9">
        <h1 className="text-3xl">{title}</h1>
        <p className="mt-2 mb-6 text-muted">{subtitle}</p>
        {children}
      </section>
    </main>
  );
}
