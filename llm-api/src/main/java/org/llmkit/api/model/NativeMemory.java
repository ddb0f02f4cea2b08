package org.llmkit.api.model;

import java.util.Locale;

/**
 * Whether this process's glibc malloc keeps freed native memory for reuse: {@code MALLOC_ARENA_MAX=1} and
 * {@code MALLOC_MMAP_MAX_=0} in the environment the JVM started with (the {@code llmkit} launcher exports them,
 * with {@code MALLOC_TRIM_THRESHOLD_}). With glibc's defaults every large tensor a training step frees goes back to
 * the kernel and the next step faults it in again, zeroed; kernels whose layout conversions allocate more (oneDNN's
 * differentiable inner product) pay the most. Read once: the environment of a running process does not change.
 */
final class NativeMemory {
    private static final boolean KEEPS_FREED_MEMORY = decide();

    private NativeMemory() { }

    private static boolean decide() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return false;
        }
        return "1".equals(System.getenv("MALLOC_ARENA_MAX")) && "0".equals(System.getenv("MALLOC_MMAP_MAX_"));
    }

    /** @return whether freed native memory stays in the process for reuse */
    static boolean keepsFreedMemory() {
        return KEEPS_FREED_MEMORY;
    }
}
