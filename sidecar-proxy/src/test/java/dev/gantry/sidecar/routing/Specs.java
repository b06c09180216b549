package dev.gantry.sidecar.routing;

/** Endpoint specs the routing tests apply, as the admin API takes them (JSON). */
public final class Specs {
  private Specs() {}

  /** {@code churn}: customer-churn v1 ("stable") and v2 ("canary"), keyed by {@code x-user-id}, overrides allowed. */
  public static String churn(int stableWeight, int canaryWeight) {
    return "{\"name\": \"churn\", \"sticky_key\": {\"header\": \"x-user-id\"}, \"allow_override\": true,"
        + " \"variants\": ["
        + "{\"name\": \"stable\", \"model\": \"customer-churn\", \"version\": \"1\", \"weight\": " + stableWeight + "},"
        + "{\"name\": \"canary\", \"model\": \"customer-churn\", \"version\": \"2\", \"weight\": " + canaryWeight + "}]}";
  }

  /** A v2 REST body with one customer row for customer-churn (five named columns). */
  public static String v2Row(double tenure, double monthly, double total, String contract, String payment) {
    return "{\"inputs\": ["
        + "{\"name\": \"tenure\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [" + tenure + "]},"
        + "{\"name\": \"monthly_charges\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [" + monthly + "]},"
        + "{\"name\": \"total_charges\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [" + total + "]},"
        + "{\"name\": \"contract_type\", \"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [\"" + contract + "\"]},"
        + "{\"name\": \"payment_method\", \"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [\"" + payment
        + "\"]}]}";
  }

  /** The row on which v1 says "stay" (P(churn) 0.399) and v2 says "churn" (0.602). */
  public static String disputedRow() {
    return v2Row(24, 90, 2160, "One year", "Bank transfer (automatic)");
  }
}
