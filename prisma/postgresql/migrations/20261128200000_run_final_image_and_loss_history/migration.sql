-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "finalImageId" TEXT,
ADD COLUMN     "lossHistory" TEXT NOT NULL DEFAULT '[]';

-- CreateIndex
CREATE INDEX "Run_finalImageId_idx" ON "Run"("finalImageId");

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_finalImageId_fkey" FOREIGN KEY ("finalImageId") REFERENCES "Image"("id") ON DELETE SET NULL ON UPDATE CASCADE;

