package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * {@link GemmWorkers} runs every task exactly once, GEMMs included, splits a range into parts that cover it once,
 * passes a task's failure to the caller, and leaves OpenBLAS usable after.
 */
class GemmWorkersTest {
    @Test
    void everyTaskRunsOnceAndItsGemmIsRight() {
        int tasks = 37;
        int n = 24;
        FloatBuffer a = filled(tasks * n * n, 0.5f);
        FloatBuffer c = filled(tasks * n * n, -1f);
        AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
        GemmWorkers.forEach(tasks, i -> {
            runs.incrementAndGet(i);
            OpenBlas.gemm(false, true, n, n, n, 1f + i, HostArrays.from(a, i * n * n), n, HostArrays.from(a, i * n * n),
                    n, 0f, HostArrays.from(c, i * n * n), n);
        });
        for (int i = 0; i < tasks; i++) {
            assertThat(runs.get(i)).as("task " + i).isEqualTo(1);
            assertThat(c.get(i * n * n + 5)).as("task " + i).isEqualTo((1f + i) * n * 0.25f);
        }
    }

    @Test
    void splitCoversTheRangeWithContiguousPartsOnce() {
        for (int n : new int[] {0, 1, 2, 7, 1024}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            AtomicIntegerArray parts = new AtomicIntegerArray(1);
            GemmWorkers.split(n, (from, to) -> {
                parts.incrementAndGet(0);
                assertThat(from).isLessThanOrEqualTo(to);
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertThat(hits.get(i)).as("index " + i + " of " + n).isEqualTo(1);
            }
            assertThat(parts.get(0)).as("parts of " + n).isBetween(1, Math.max(1, Math.min(n, OpenBlas.threads())));
        }
    }

    @Test
    void aFailingTaskFailsTheCallAndOpenBlasStillWorksAfter() {
        assertThatThrownBy(() -> GemmWorkers.forEach(8, i -> {
            if (i == 5) {
                throw new IllegalArgumentException("task 5");
            }
        })).isInstanceOf(IllegalArgumentException.class).hasMessage("task 5");
        FloatBuffer x = filled(64 * 64, 1f);
        FloatBuffer y = filled(64 * 64, 0f);
        OpenBlas.gemm(false, false, 64, 64, 64, 1f, x, 64, x, 64, 0f, y, 64);
        assertThat(y.get(64 * 64 - 1)).isEqualTo(64f);
    }

    private static FloatBuffer filled(int n, float value) {
        FloatBuffer b = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < n; i++) {
            b.put(i, value);
        }
        return b;
    }
}
