/**
 * The shapes of the metrics API's answers the dashboard reads (docs/metrics.md has each figure's
 * definition). Only the fields the page shows; the API may send more.
 */

/** Every answer's common head. */
export interface Period {
  timezone: string;
  from: string;
  to: string;
}

export interface Money {
  currency: string;
  amount: number;
}

export interface Figures {
  start: string;
  end: string;
  customers: {
    start: number;
    end: number;
    gained: number;
    lost: number;
    /** Of the customers paying at the start, those who left: `customer_churn_rate`'s numerator. */
    lost_from_start: number;
    new: number;
    reactivated: number;
    lost_voluntary: number;
    lost_involuntary: number;
  };
  customer_churn_rate: number | null;
  retention_rate: number | null;
  mrr: {
    start: number;
    end: number;
    new: number;
    expansion: number;
    contraction: number;
    churn: number;
    churn_from_start: number;
    churn_voluntary: number;
    churn_involuntary: number;
    reactivation: number;
    net_change: number;
  };
  gross_mrr_churn: number | null;
  net_mrr_churn: number | null;
  gross_revenue_retention: number | null;
  net_revenue_retention: number | null;
}

export interface Retention extends Period {
  interval: string;
  currency: string;
  currencies: string[];
  periods: Figures[];
  total: Figures;
}

export interface Cancellations extends Period {
  currency: string;
  by_reason: { reason: string; count: number; mrr_lost: number; involuntary: boolean }[];
  by_plan: { plan: string; reason: string; count: number; mrr_lost: number }[];
  tenure: { bucket: string; count: number; mrr_lost: number }[];
  total: { count: number; mrr_lost: number };
}

export interface Winback extends Period {
  window: string;
  targeted: number;
  reactivated: number;
  reactivation_rate: number | null;
  revenue_since_reactivation: Money[];
  reactivated_30d_ago: number;
  reactivated_90d_ago: number;
  rechurned_30d: number;
  rechurned_90d: number;
  rechurn_rate_30d: number | null;
  rechurn_rate_90d: number | null;
  by_sequence: {
    sequence: string;
    targeted: number;
    reactivated: number;
    reactivation_rate: number | null;
  }[];
}

export interface Dunning extends Period {
  currency: string;
  at_risk: number;
  opened: number;
  opened_mrr: number;
  failed_mrr: number;
  recovered: number;
  recovery_rate: number | null;
  recovered_mrr: number;
  final: number;
  canceled: number;
  by_step: { step: number | string; recovered: number; recovered_mrr: number }[];
  by_decline_code: {
    decline_code: string;
    at_risk: number;
    opened: number;
    recovered: number;
    recovery_rate: number | null;
  }[];
}

export interface LiftEstimate {
  lift: number;
  low: number;
  high: number;
  method: string;
}

export interface Lift {
  variant: string | null;
  treated: { conversions: number; n: number };
  holdout: { conversions: number; n: number };
  treated_rate: number | null;
  holdout_rate: number | null;
  confidence: number;
  absolute: LiftEstimate | null;
  relative: LiftEstimate | null;
  relative_why?: string;
  enough: boolean;
  why?: string;
}

export interface CampaignStep {
  step: number | string;
  variants: {
    variant: string | null;
    audience: number;
    /** Assigned and not held out (sent + frequency_capped + no_offer): the lift's treated group. */
    assigned: number;
    sent: number;
    failed: number;
    held_out: number;
    frequency_capped: number;
    no_offer: number;
    /** Of the assigned customers (intention to treat). */
    conversions: number;
    conversion_rate: number | null;
  }[];
  holdout: { n: number; conversions: number; conversion_rate: number | null };
  lift: Lift[];
}

export interface Campaigns extends Period {
  campaigns: {
    campaign: string;
    conversion: { event: string; within: string } | null;
    occurrences: number;
    steps: CampaignStep[];
  }[];
}

export interface RecentDecisions {
  items: {
    id: string;
    customer_id: string;
    context: string;
    reason: string | null;
    offer_key: string | null;
    status: string;
    reason_code: string;
    why: string;
    ruleset_version: string;
    variant: string | null;
    created_at: string | number;
  }[];
}

export interface SendProblems {
  items: {
    id: string;
    customer_id: string;
    programme_kind: string;
    programme_key: string;
    step: number | string | null;
    channel: string;
    status: string;
    attempts: number;
    last_error: string | null;
    updated_at: string | number;
  }[];
}
