/**
 * The environment variables packages/db reads, read here and nowhere else in the package:
 * DATA_DIR (where files live), DATABASE_URL (which database), ATELIER_ROOT (where the
 * repository and its migrations are, when it cannot be found from this module).
 */
export interface DbEnv {
  DATA_DIR?: string;
  DATABASE_URL?: string;
  ATELIER_ROOT?: string;
  [name: string]: string | undefined;
}

export function dbEnv(): DbEnv {
  return process.env;
}
