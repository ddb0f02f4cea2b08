package org.llmkit.api.model;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether this process's glibc malloc keeps freed native memory for reuse: {@code MALLOC_ARENA_MAX=1} and
 * {@code MALLOC_MMAP_MAX_=0} in the environment the JVM started with (the {@code llmkit} launcher exports them,
 * with {@code MALLOC_TRIM_THRESHOLD_}). With glibc's defaults every large tensor a training step frees goes back to
 * the kernel and the next step faults it in again, zeroed; kernels whose layout conversions allocate more (oneDNN's
 * differentiable inner product) pay the most. Read once: the environment of a running process does not change.
 */
public final class NativeMemory {
    /** The environment variables, in the order to write them, with the values the launcher uses. */
    public static final List<Map.Entry<String, String>> SETTINGS = List.of(Map.entry("MALLOC_ARENA_MAX", "1"),
            Map.entry("MALLOC_MMAP_MAX_", "0"), Map.entry("MALLOC_TRIM_THRESHOLD_", "68719476736"));
    private static final boolean KEEPS_FREED_MEMORY = missingSettings(System.getProperty("os.name", ""),
            System::getenv).isEmpty();

    private NativeMemory() { }

    /**
     * The settings an environment lacks, as {@code NAME=value} (empty off Linux, where they do not apply).
     * {@code MALLOC_ARENA_MAX} and {@code MALLOC_MMAP_MAX_} must have the launcher's values; the trim threshold
     * only has to be set.
     *
     * @param osName the {@code os.name} property
     * @param env the environment
     * @return the missing settings, in {@link #SETTINGS} order
     */
    public static List<String> missingSettings(String osName, Function<String, String> env) {
        if (!osName.toLowerCase(Locale.ROOT).contains("linux")) {
            return List.of();
        }
        return SETTINGS.stream()
                .filter(e -> e.getKey().startsWith("MALLOC_TRIM") ? env.apply(e.getKey()) == null
                        : !e.getValue().equals(env.apply(e.getKey())))
                .map(e -> e.getKey() + "=" + e.getValue())
                .toList();
    }

    /** @return whether this process's freed native memory stays in it for reuse */
    public static boolean keepsFreedMemory() {
        return KEEPS_FREED_MEMORY;
    }
}
