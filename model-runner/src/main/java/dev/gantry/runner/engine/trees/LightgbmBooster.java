package dev.gantry.runner.engine.trees;

import static com.microsoft.ml.lightgbm.lightgbmlib.LGBM_BoosterCalcNumPredict;
import static com.microsoft.ml.lightgbm.lightgbmlib.LGBM_BoosterFree;
import static com.microsoft.ml.lightgbm.lightgbmlib.LGBM_BoosterLoadModelFromString;
import static com.microsoft.ml.lightgbm.lightgbmlib.LGBM_BoosterPredictForMat;
import static com.microsoft.ml.lightgbm.lightgbmlib.LGBM_GetLastError;
import static com.microsoft.ml.lightgbm.lightgbmlib.delete_doubleArray;
import static com.microsoft.ml.lightgbm.lightgbmlib.delete_floatArray;
import static com.microsoft.ml.lightgbm.lightgbmlib.delete_int64_tp;
import static com.microsoft.ml.lightgbm.lightgbmlib.delete_intp;
import static com.microsoft.ml.lightgbm.lightgbmlib.delete_voidpp;
import static com.microsoft.ml.lightgbm.lightgbmlib.doubleArray_getitem;
import static com.microsoft.ml.lightgbm.lightgbmlib.floatArray_setitem;
import static com.microsoft.ml.lightgbm.lightgbmlib.float_to_voidp_ptr;
import static com.microsoft.ml.lightgbm.lightgbmlib.int64_tp_value;
import static com.microsoft.ml.lightgbm.lightgbmlib.new_doubleArray;
import static com.microsoft.ml.lightgbm.lightgbmlib.new_floatArray;
import static com.microsoft.ml.lightgbm.lightgbmlib.new_int64_tp;
import static com.microsoft.ml.lightgbm.lightgbmlib.new_intp;
import static com.microsoft.ml.lightgbm.lightgbmlib.new_voidpp;
import static com.microsoft.ml.lightgbm.lightgbmlib.voidpp_value;
import static com.microsoft.ml.lightgbm.lightgbmlibConstants.C_API_DTYPE_FLOAT32;
import static com.microsoft.ml.lightgbm.lightgbmlibConstants.C_API_PREDICT_NORMAL;

import com.microsoft.ml.lightgbm.SWIGTYPE_p_double;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_float;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_int;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_long_long;
import com.microsoft.ml.lightgbm.SWIGTYPE_p_p_void;
import io.github.metarank.lightgbm4j.LGBMBooster;
import io.github.metarank.lightgbm4j.LGBMException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One LightGBM booster over LightGBM's C API, through the SWIG layer in the lightgbm4j jar (whose
 * native library lightgbm4j loads). Not {@code LGBMBooster.predictForMat}: lightgbm4j 4.3.0-1
 * sizes its output buffer for two values a row, which a model of three or more classes overruns
 * (the native heap is corrupted and the JVM aborts); here the buffer has the size LightGBM asks for.
 */
final class LightgbmBooster implements AutoCloseable {
  private final SWIGTYPE_p_p_void handle;
  private boolean closed;

  private LightgbmBooster(SWIGTYPE_p_p_void handle) {
    this.handle = handle;
  }

  /** Loads a model from its text; LightGBM checks it. */
  static LightgbmBooster load(String model) throws LGBMException {
    loadNative();
    SWIGTYPE_p_p_void handle = new_voidpp();
    SWIGTYPE_p_int iterations = new_intp();
    try {
      if (LGBM_BoosterLoadModelFromString(model, iterations, handle) != 0) {
        delete_voidpp(handle);
        throw new LGBMException(LGBM_GetLastError());
      }
      return new LightgbmBooster(handle);
    } finally {
      delete_intp(iterations);
    }
  }

  private static void loadNative() {
    try {
      LGBMBooster.loadNative();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack LightGBM's native library from the lightgbm4j jar", e);
    }
  }

  /**
   * {@code Booster.predict} over all iterations, as Python's does for a loaded model file.
   *
   * @param rows row-major features, {@code n × features}
   * @param parameters LightGBM prediction parameters ({@code key=value ...}), may be empty
   */
  double[] predict(float[] rows, int n, int features, String parameters) throws LGBMException {
    SWIGTYPE_p_long_long length = new_int64_tp();
    SWIGTYPE_p_float data = null;
    SWIGTYPE_p_double out = null;
    try {
      check(LGBM_BoosterCalcNumPredict(voidpp_value(handle), n, C_API_PREDICT_NORMAL, 0, -1, length));
      long size = int64_tp_value(length);
      data = new_floatArray(rows.length);
      for (int i = 0; i < rows.length; i++) {
        floatArray_setitem(data, i, rows[i]);
      }
      out = new_doubleArray(size);
      check(LGBM_BoosterPredictForMat(voidpp_value(handle), float_to_voidp_ptr(data), C_API_DTYPE_FLOAT32, n,
          features, 1, C_API_PREDICT_NORMAL, 0, -1, parameters, length, out));
      double[] values = new double[Math.toIntExact(int64_tp_value(length))];
      for (int i = 0; i < values.length; i++) {
        values[i] = doubleArray_getitem(out, i);
      }
      return values;
    } finally {
      delete_int64_tp(length);
      if (data != null) {
        delete_floatArray(data);
      }
      if (out != null) {
        delete_doubleArray(out);
      }
    }
  }

  private static void check(int result) throws LGBMException {
    if (result != 0) {
      throw new LGBMException(LGBM_GetLastError());
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      LGBM_BoosterFree(voidpp_value(handle));
      delete_voidpp(handle);
    }
  }
}
