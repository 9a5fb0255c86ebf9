/** Journeys side by side (ATELIER_E2E_WORKERS, default 2); the service gets one engine slot per journey. */
export const E2E_WORKERS = Math.max(1, Number(process.env.ATELIER_E2E_WORKERS ?? "2") || 1);
