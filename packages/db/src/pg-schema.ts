/**
 * prisma/postgresql/schema.prisma is derived from prisma/schema.prisma: the same models, only the
 * datasource provider and the generator output differ. Keeping it derived (never hand-edited)
 * means the two providers cannot drift apart; test/schema.test.ts checks the committed copy.
 */
const PG_SCHEMA_HEADER = "// GENERATED from prisma/schema.prisma by `npm run db:pg-schema` — do not edit by hand.\n";

export function postgresSchemaFrom(sqliteSchema: string): string {
  let providerReplaced = 0;
  let outputReplaced = 0;
  const text = sqliteSchema
    .replace(/(datasource\s+db\s*\{[^}]*?provider\s*=\s*)"sqlite"/, (_m, head: string) => {
      providerReplaced++;
      return `${head}"postgresql"`;
    })
    .replace(
      /(generator\s+client\s*\{[^}]*?output\s*=\s*)"\.\.\/packages\/db\/src\/generated\/sqlite"/,
      (_m, head: string) => {
        outputReplaced++;
        // one folder deeper (prisma/postgresql/), and its own output folder
        return `${head}"../../packages/db/src/generated/postgresql"`;
      },
    );
  if (providerReplaced !== 1 || outputReplaced !== 1) {
    throw new Error(
      'prisma/schema.prisma must have `provider = "sqlite"` in `datasource db` and ' +
        '`output = "../packages/db/src/generated/sqlite"` in `generator client`',
    );
  }
  return PG_SCHEMA_HEADER + text;
}
