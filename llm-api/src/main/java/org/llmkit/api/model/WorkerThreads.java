package org.llmkit.api.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether the idle worker threads of libtorch's OpenMP runtime (libgomp) and of OpenBLAS give their core back
 * quickly in this process. A training step on {@link TrainingGemm#OPENBLAS} alternates libtorch ops (norms,
 * attention, activations) with OpenBLAS GEMMs. By default libgomp's workers spin after each parallel region and
 * OpenBLAS's spin (yielding) after each call, so on a machine with as many cores as threads each pool's spinning
 * workers take cores from the other's busy ones: a 100M-parameter Llama trained at 204 tokens/s (LoRA 189) on 2 cores,
 * and at 284-343 (LoRA 392-428) with {@code GOMP_SPINCOUNT=1000 OPENBLAS_THREAD_TIMEOUT=4}, where libtorch's own
 * kernels gave 252-265 (LoRA 362-370). Each setting alone recovered only part. Batch-1 decoding prefers the defaults
 * (OpenBLAS's workers stay awake between the token's GEMVs: 68-78 tokens/s against 64-66), so the {@code llmkit}
 * launcher exports these for its training commands only. Read once: the environment of a running process does
 * not change, and both libraries read it when they load.
 */
public final class WorkerThreads {
    /** The environment variables, in the order to write them, with the values the launcher uses for training. */
    public static final List<Map.Entry<String, String>> TRAINING_SETTINGS = List.of(
            Map.entry("GOMP_SPINCOUNT", "1000"), Map.entry("OPENBLAS_THREAD_TIMEOUT", "4"));
    private static final boolean YIELD = missingTrainingSettings(System::getenv).isEmpty();

    private WorkerThreads() { }

    /**
     * The training settings an environment lacks, as {@code NAME=value}. libgomp's workers count as yielding with
     * {@code GOMP_SPINCOUNT} at most 10000 or {@code OMP_WAIT_POLICY=passive}; OpenBLAS's with
     * {@code OPENBLAS_THREAD_TIMEOUT} at most 10 (a timeout of 2^n cycles).
     *
     * @param env the environment
     * @return the missing settings, in {@link #TRAINING_SETTINGS} order
     */
    public static List<String> missingTrainingSettings(Function<String, String> env) {
        List<String> missing = new ArrayList<>();
        boolean passive = "passive".equals(String.valueOf(env.apply("OMP_WAIT_POLICY")).toLowerCase(Locale.ROOT));
        if (!passive && !atMost(env.apply("GOMP_SPINCOUNT"), 10_000)) {
            missing.add("GOMP_SPINCOUNT=1000");
        }
        if (!atMost(env.apply("OPENBLAS_THREAD_TIMEOUT"), 10)) {
            missing.add("OPENBLAS_THREAD_TIMEOUT=4");
        }
        return missing;
    }

    private static boolean atMost(String value, long limit) {
        if (value == null) {
            return false;
        }
        try {
            return Long.parseLong(value.trim()) <= limit;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** @return whether both pools' idle workers give their cores back quickly in this process */
    public static boolean yieldCores() {
        return YIELD;
    }
}
