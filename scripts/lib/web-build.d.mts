export function webBuildStaleReason(distDir?: string): string | null;
