/**
 * A campaign's stages: the distinct (step index, delay after the occurrence) pairs across its
 * variants. Each stage of each occurrence is claimed and run on its own, when it is due: step 0 at
 * the occurrence, a step `after: 5d` five days later, to the customers who got the step before it.
 */
import type { CompiledCampaign, StepIR } from "../../dsl";

export interface CampaignStage {
  readonly campaign: CompiledCampaign;
  /** Index into a variant's steps: also `sends.step` and `campaign_runs.step`. */
  readonly step: number;
  /** Delay of the step after the occurrence (sum of `after` up to and including it). */
  readonly offsetMs: number;
}

/** The stages of `campaign`, by offset then step. */
export function campaignStages(campaign: CompiledCampaign): CampaignStage[] {
  const variantSteps: (readonly StepIR[])[] = [campaign.ir.steps];
  for (const variant of campaign.ir.experiment?.variants ?? [])
    if (variant.steps) variantSteps.push(variant.steps);
  const seen = new Map<string, CampaignStage>();
  for (const steps of variantSteps) {
    stepOffsets(steps).forEach((offsetMs, step) => {
      seen.set(`${step}@${offsetMs}`, { campaign, step, offsetMs });
    });
  }
  return [...seen.values()].sort((a, b) => a.offsetMs - b.offsetMs || a.step - b.step);
}

/** Cumulative delay of each step after the occurrence. */
export function stepOffsets(steps: readonly StepIR[]): number[] {
  let offset = 0;
  return steps.map((step) => {
    offset += step.afterMs ?? 0;
    return offset;
  });
}
