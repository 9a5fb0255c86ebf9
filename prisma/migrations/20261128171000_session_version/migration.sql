-- AlterTable (ADD COLUMN rather than Prisma's table rebuild: no copy of the users)
ALTER TABLE "User" ADD COLUMN "sessionVersion" INTEGER NOT NULL DEFAULT 0;
