-- AlterTable
ALTER TABLE "RoomInvite" ADD COLUMN     "maxUses" INTEGER,
ADD COLUMN     "uses" INTEGER NOT NULL DEFAULT 0;

