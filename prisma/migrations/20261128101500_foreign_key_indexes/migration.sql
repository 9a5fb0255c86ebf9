-- CreateIndex
CREATE INDEX "Style_imageId_idx" ON "Style"("imageId");

-- CreateIndex
CREATE INDEX "Result_runId_idx" ON "Result"("runId");

-- CreateIndex
CREATE INDEX "Result_imageId_idx" ON "Result"("imageId");

-- CreateIndex
CREATE INDEX "Like_resultId_idx" ON "Like"("resultId");

