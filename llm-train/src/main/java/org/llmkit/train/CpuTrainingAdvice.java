package org.llmkit.train;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.llmkit.api.model.NativeMemory;
import org.llmkit.api.model.WorkerThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once per JVM when CPU training runs without the environment settings that make it fast: glibc malloc's
 * defaults, and worker threads that spin (the second matters to float32 training on OpenBLAS, {@link WorkerThreads}).
 *
 * <p>Malloc: libtorch frees and re-allocates about a
 * gigabyte of activations every step of a 100M-parameter model; with the defaults glibc hands large blocks back to the
 * kernel and the next step faults them in again, zeroed (a quarter to a third of the step went to the kernel here).
 * Keeping freed memory in one arena for reuse ({@link NativeMemory#SETTINGS}) made training 2-4x faster on the 2-core
 * machine of the README's benchmarks. The settings are environment variables read when the process starts, so a
 * running JVM cannot change them; the {@code llmkit} launcher sets them.
 */
final class CpuTrainingAdvice {
    private static final Logger LOG = LoggerFactory.getLogger(FineTuner.class);
    private static final AtomicBoolean SAID = new AtomicBoolean();

    private CpuTrainingAdvice() { }

    /**
     * The advice for an environment, or null when there is nothing to say (not Linux, or the settings are there).
     *
     * @param osName the {@code os.name} property
     * @param env the environment
     * @return the message, or null
     */
    static String mallocAdvice(String osName, Function<String, String> env) {
        List<String> missing = NativeMemory.missingSettings(osName, env);
        if (missing.isEmpty()) {
            return null;
        }
        return "CPU training with glibc malloc's defaults: freed activations go back to the kernel and are faulted in"
                + " again every step. Start the JVM with " + String.join(" ", missing) + " in its environment (the"
                + " llmkit launcher does) for about 2x faster training (README, \"Native memory\").";
    }

    /**
     * The advice about worker threads, or null when the environment has {@link WorkerThreads#TRAINING_SETTINGS}.
     *
     * @param env the environment
     * @return the message, or null
     */
    static String threadAdvice(Function<String, String> env) {
        List<String> missing = WorkerThreads.missingTrainingSettings(env);
        if (missing.isEmpty()) {
            return null;
        }
        return "CPU training with spinning worker threads: libtorch's and OpenBLAS's idle workers would take each"
                + " other's cores, so float32 linear layers stay on libtorch's GEMMs. Start the JVM with "
                + String.join(" ", missing) + " in its environment (the llmkit launcher's finetune does) to let"
                + " them run on OpenBLAS, 1.1-1.3x faster on the README's machine (README, \"Training GEMMs\").";
    }

    /** Logs the advice for this process once, at warn level, when it applies. */
    static void logOnce() {
        if (!SAID.compareAndSet(false, true)) {
            return;
        }
        String malloc = mallocAdvice(System.getProperty("os.name", ""), System::getenv);
        if (malloc != null) {
            LOG.warn(malloc);
        }
        String threads = threadAdvice(System::getenv);
        if (threads != null) {
            LOG.warn(threads);
        }
    }
}
