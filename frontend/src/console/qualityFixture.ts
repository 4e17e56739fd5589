/** A quality report as the server sent it for a simulated campaign (12 raters, one with a
 * position bias of 0.9, one spammer; pairwise, so no rank figures), cut down to three raters;
 * used by the tests. */

import type { QualityReport } from "./qualityTypes";

export const REPORT: QualityReport = {
  "generated_at": "2026-11-22T08:04:35.309976+00:00",
  "judgments": 360,
  "pairs": 360,
  "raters": 3,
  "settings": {
    "test_level": 0.05,
    "min_judgments": 20,
    "outlier_margin": 0.1,
    "fast_share_allowed": 0.1,
    "straight_line_share": 0.9,
    "min_group_raters": 5,
    "n_boot": 200,
    "seed": 0,
    "reading_floor_ms_per_char": 15.0,
    "gold_threshold": null,
    "gold_min_items": 10,
    "loo_reference": 0.8,
    "length_slope_reference": 0.131838
  },
  "agreement": {
    "percent_agreement": {
      "value": 0.636111,
      "ci_low": 0.572083,
      "ci_high": 0.711181,
      "n": 120
    },
    "percent_agreement_no_ties": {
      "value": 0.70679,
      "ci_low": 0.647221,
      "ci_high": 0.784465,
      "n": 120
    },
    "alpha_pairwise": {
      "value": 0.379995,
      "ci_low": 0.242351,
      "ci_high": 0.517884,
      "n": 120
    },
    "fleiss_kappa": {
      "value": 0.323735,
      "ci_low": 0.213058,
      "ci_high": 0.457336,
      "n": 120
    },
    "alpha_ranks": {
      "value": null,
      "ci_low": null,
      "ci_high": null,
      "n": 0
    },
    "kendalls_w": null,
    // Added by hand when the field arrived; not part of the captured run.
    "consensus_agreement": {
      "value": 0.74,
      "ci_low": 0.69,
      "ci_high": 0.79,
      "n": 700
    }
  },
  "consensus": {
    "tasks": 120,
    "clear_top_share": 0.56,
    "mean_top_probability": 0.81
  },
  "over_time": [
    {
      "start": "2026-11-22T00:00:00+00:00",
      "judgments": 360,
      "percent_agreement": {
        "value": 0.636111,
        "ci_low": 0.56375,
        "ci_high": 0.691667,
        "n": 120
      },
      "alpha_pairwise": {
        "value": 0.379995,
        "ci_low": null,
        "ci_high": null,
        "n": 120
      }
    }
  ],
  "campaign": {
    "raters": 12,
    "judgments": 360,
    "loo_agreement": {
      "value": 0.735849,
      "ci_low": 0.67967,
      "ci_high": 0.785288,
      "n": 265
    },
    "position_bias": {
      "value": 0.581871,
      "ci_low": 0.528969,
      "ci_high": 0.632955,
      "n": 342,
      "p_value": 0.00288439
    },
    "length_bias": {
      "value": 0.508772,
      "ci_low": 0.455986,
      "ci_high": 0.561363,
      "n": 342,
      // The campaign-wide slope came after this report was captured.
      "slope": null,
      "slope_se": null
    },
    "fast_share": {
      "value": 0.0861111,
      "ci_low": 0.0613267,
      "ci_high": 0.119635,
      "n": 360
    },
    "flagged_raters": 2
  },
  "pools": {
    "groups": [
      {
        "name": "Simulated raters: Quality demo",
        "raters": 12,
        "judgments": 360,
        "loo_agreement": {
          "value": 0.735849,
          "ci_low": 0.67967,
          "ci_high": 0.785288,
          "n": 265
        },
        "position_bias": {
          "value": 0.581871,
          "ci_low": 0.528969,
          "ci_high": 0.632955,
          "n": 342,
          "p_value": 0.00288439
        },
        "length_bias": {
          "value": 0.508772,
          "ci_low": 0.455986,
          "ci_high": 0.561363,
          "n": 342
        },
        "fast_share": {
          "value": 0.0861111,
          "ci_low": 0.0613267,
          "ci_high": 0.119635,
          "n": 360
        },
        "flagged_raters": 2
      }
    ],
    "left_out": [],
    "loo_agreement_p_value": null,
    "position_bias_p_value": null
  },
  "demographics": {},
  "rater_rows": [
    {
      "rater_id": 1,
      "username": "sim-01",
      "status": "active",
      "pools": [
        "Simulated raters: Quality demo"
      ],
      "judgments": 30,
      "tested": true,
      "loo_agreement": {
        "value": 0.821429,
        "ci_low": 0.644086,
        "ci_high": 0.921215,
        "n": 28,
        "p_value": 0.950267,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "gold_accuracy": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "items": 0
      },
      "median_time_ms": 18660.5,
      "fast_share": {
        "value": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.113513,
        "n": 30,
        "p_value": 1.0,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "straight_lining": {
        "value": 0.517241,
        "ci_low": 0.34431,
        "ci_high": 0.686139,
        "n": 29,
        "p_value": 1.0,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "self_consistency": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "repeats": 0
      },
      "position_bias": {
        "value": 0.482759,
        "ci_low": 0.313861,
        "ci_high": 0.65569,
        "n": 29,
        "p_value": 1.0,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "length_bias": {
        "value": 0.551724,
        "ci_low": 0.37548,
        "ci_high": 0.715868,
        "n": 29,
        "slope": 0.0370337,
        "slope_se": 1.03113,
        "p_value": 0.926744,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "flags": []
    },
    {
      "rater_id": 11,
      "username": "sim-11",
      "status": "active",
      "pools": [
        "Simulated raters: Quality demo"
      ],
      "judgments": 30,
      "tested": true,
      "loo_agreement": {
        "value": 0.538462,
        "ci_low": 0.291438,
        "ci_high": 0.767939,
        "n": 13,
        "p_value": null,
        "p_adjusted": null,
        "flagged": false
      },
      "gold_accuracy": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "items": 0
      },
      "median_time_ms": 18560.5,
      "fast_share": {
        "value": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.113513,
        "n": 30,
        "p_value": 1.0,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "straight_lining": {
        "value": 0.964286,
        "ci_low": 0.822878,
        "ci_high": 0.993667,
        "n": 28,
        "p_value": 0.215154,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "self_consistency": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "repeats": 0
      },
      "position_bias": {
        "value": 0.964286,
        "ci_low": 0.822878,
        "ci_high": 0.993667,
        "n": 28,
        "p_value": 2.16067e-07,
        "p_adjusted": 2.5928e-06,
        "flagged": true
      },
      "length_bias": {
        "value": 0.321429,
        "ci_low": 0.179332,
        "ci_high": 0.506612,
        "n": 28,
        "slope": -2.3723,
        "slope_se": 1.16296,
        "p_value": 0.0312991,
        "p_adjusted": 0.375589,
        "flagged": false
      },
      "flags": [
        "position_bias"
      ]
    },
    {
      "rater_id": 12,
      "username": "sim-12",
      "status": "active",
      "pools": [
        "Simulated raters: Quality demo"
      ],
      "judgments": 30,
      "tested": true,
      "loo_agreement": {
        "value": 0.4375,
        "ci_low": 0.230987,
        "ci_high": 0.668214,
        "n": 16,
        "p_value": null,
        "p_adjusted": null,
        "flagged": false
      },
      "gold_accuracy": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "items": 0
      },
      "median_time_ms": 1226.5,
      "fast_share": {
        "value": 1.0,
        "ci_low": 0.886487,
        "ci_high": 1.0,
        "n": 30,
        "p_value": 1e-30,
        "p_adjusted": 1.2e-29,
        "flagged": true
      },
      "straight_lining": {
        "value": 0.6,
        "ci_low": 0.423204,
        "ci_high": 0.754094,
        "n": 30,
        "p_value": 0.999998,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "self_consistency": {
        "value": null,
        "ci_low": null,
        "ci_high": null,
        "n": 0,
        "repeats": 0
      },
      "position_bias": {
        "value": 0.6,
        "ci_low": 0.423204,
        "ci_high": 0.754094,
        "n": 30,
        "p_value": 0.361595,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "length_bias": {
        "value": 0.5,
        "ci_low": 0.331541,
        "ci_high": 0.668459,
        "n": 30,
        "slope": 0.112968,
        "slope_se": 1.03042,
        "p_value": 0.985389,
        "p_adjusted": 1.0,
        "flagged": false
      },
      "flags": [
        "speed"
      ]
    }
  ],
  "flagged_raters": [
    11,
    12
  ],
  "judges": [],
  "campaign_id": 1,
  "campaign_name": "Simulated campaign"
};
