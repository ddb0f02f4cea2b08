package org.llmkit.train;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.llmkit.api.model.NativeMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once per JVM when CPU training on glibc runs with malloc's defaults. libtorch frees and re-allocates about a
 * gigabyte of activations every step of a 100M-parameter model; with the defaults glibc hands large blocks back to the
 * kernel and the next step faults them in again, zeroed (a quarter to a third of the step went to the kernel here).
 * Keeping freed memory in one arena for reuse ({@link NativeMemory#SETTINGS}) made training 2-4x faster on the 2-core
 * machine of the README's benchmarks. The settings are environment variables read when the process starts, so a
 * running JVM cannot change them; the {@code llmkit} launcher sets them.
 */
final class NativeMemoryAdvice {
    private static final Logger LOG = LoggerFactory.getLogger(FineTuner.class);
    private static final AtomicBoolean SAID = new AtomicBoolean();

    private NativeMemoryAdvice() { }

    /**
     * The advice for an environment, or null when there is nothing to say (not Linux, or the settings are there).
     *
     * @param osName the {@code os.name} property
     * @param env the environment
     * @return the message, or null
     */
    static String advice(String osName, Function<String, String> env) {
        List<String> missing = NativeMemory.missingSettings(osName, env);
        if (missing.isEmpty()) {
            return null;
        }
        return "CPU training with glibc malloc's defaults: freed activations go back to the kernel and are faulted in"
                + " again every step. Start the JVM with " + String.join(" ", missing) + " in its environment (the"
                + " llmkit launcher does) for about 2x faster training (README, \"Native memory\").";
    }

    /** Logs the advice for this process once, at warn level, when it applies. */
    static void logOnce() {
        String message = advice(System.getProperty("os.name", ""), System::getenv);
        if (message != null && SAID.compareAndSet(false, true)) {
            LOG.warn(message);
        }
    }
}
