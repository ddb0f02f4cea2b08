package org.llmkit.train;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says once per JVM when CPU training on glibc runs with malloc's defaults. libtorch frees and re-allocates about a
 * gigabyte of activations every step of a 100M-parameter model; with the defaults glibc hands large blocks back to the
 * kernel and the next step faults them in again, zeroed (a quarter to a third of the step went to the kernel here).
 * Keeping freed memory in one arena for reuse made full fine-tuning 1.7x and LoRA 2x faster on the 2-core machine of
 * the README's benchmarks. The settings are environment variables read when the process starts, so a running JVM
 * cannot change them; the {@code llmkit} launcher sets them.
 */
final class NativeMemoryAdvice {
    /** The settings and the values the launcher uses. */
    static final Map<String, String> SETTINGS = Map.of(
            "MALLOC_ARENA_MAX", "1", "MALLOC_MMAP_MAX_", "0", "MALLOC_TRIM_THRESHOLD_", "68719476736");
    private static final List<String> ORDER = List.of("MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_");
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
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")) {
            return null;
        }
        StringBuilder missing = new StringBuilder();
        for (String name : ORDER) {
            if (env.apply(name) == null) {
                missing.append(missing.length() == 0 ? "" : " ").append(name).append('=').append(SETTINGS.get(name));
            }
        }
        if (missing.length() == 0) {
            return null;
        }
        return "CPU training with glibc malloc's defaults: freed activations go back to the kernel and are faulted in"
                + " again every step. Start the JVM with " + missing + " in its environment (the llmkit launcher does)"
                + " for about 1.7x faster full fine-tuning and 2x faster LoRA (README, \"Native memory\").";
    }

    /** Logs the advice for this process once, at warn level, when it applies. */
    static void logOnce() {
        String message = advice(System.getProperty("os.name", ""), System::getenv);
        if (message != null && SAID.compareAndSet(false, true)) {
            LOG.warn(message);
        }
    }
}
