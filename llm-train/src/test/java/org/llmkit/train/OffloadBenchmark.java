package org.llmkit.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.llmkit.api.model.NoGradient;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The offloaded AdamW step in host memory, ND4J's fused updater ({@link Nd4jAdamW#update}) against the same
 * update with DJL ops on the CPU ({@link DjlAdamW#update}), on N float32 parameters whose gradients and state
 * already sit in host memory (default 100M; weight decay on everything). Prints the median of 5 steps after 2
 * warm-up steps, one {@code key=value} per line. A benchmark, not a test: run it by hand, e.g.
 * <pre>
 * java -cp llm-train/target/test-classes:llm-train/target/classes:$(cat cp.txt) \
 *     -Dai.djl.offline=true org.llmkit.train.OffloadBenchmark [--params 100000000] [--threads 1]
 * </pre>
 */
public final class OffloadBenchmark {
    private OffloadBenchmark() { }

    /**
     * Runs the benchmark.
     *
     * @param args {@code --params N} and {@code --threads T} (torch intra-op threads; ND4J follows OMP_NUM_THREADS)
     */
    public static void main(String[] args) {
        long n = 100_000_000L;
        int threads = 0;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--params" -> n = Long.parseLong(args[i + 1]);
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Engine.getEngine("PyTorch");   // loads libtorch before any JNI call
        if (threads > 0) {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
        ShardOptimizer.Hyper hyper = new ShardOptimizer.Hyper(0.9, 0.999, 1e-8, 0.01);
        List<FlatLayout.Range> decay = List.of(new FlatLayout.Range(0, n));
        System.out.println("params=" + n);
        System.out.println("cores=" + Runtime.getRuntime().availableProcessors());
        double djl;
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager(Device.cpu()); NoGradient off = NoGradient.scope()) {
            NDArray p = m.randomUniform(-1, 1, new Shape(n), DataType.FLOAT32);
            NDArray g = m.randomUniform(-1, 1, new Shape(n), DataType.FLOAT32);
            NDArray mo = m.zeros(new Shape(n), DataType.FLOAT32);
            NDArray v = m.zeros(new Shape(n), DataType.FLOAT32);
            djl = median("djl_cpu_step", t -> {
                try (NDManager step = m.newSubManager()) {
                    mo.tempAttach(step);
                    v.tempAttach(step);
                    p.tempAttach(step);
                    DjlAdamW.update(p, mo, v, g, 1e-4, t, hyper, decay);
                }
            });
        }
        System.out.printf(Locale.ROOT, "djl_cpu_step_ms=%.1f%n", djl);
        INDArray p = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        INDArray g = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        INDArray mo = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        INDArray v = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n);
        INDArray gradients = g.dup();
        double nd4j = median("nd4j_step", t -> {
            gradients.assign(g);   // the fused kernel overwrites the gradients with the update
            Nd4jAdamW.update(p, mo, v, gradients, 1e-4, t, hyper, decay);
        });
        System.out.printf(Locale.ROOT, "nd4j_step_ms=%.1f%n", nd4j);
        double copy = median("nd4j_gradient_copy", t -> gradients.assign(g));
        System.out.printf(Locale.ROOT, "nd4j_gradient_copy_ms=%.1f (included in nd4j_step_ms)%n", copy);
        System.out.println("faster=" + (nd4j - copy < djl ? "nd4j" : "djl"));
    }

    private interface Step {
        void run(long t);
    }

    // median wall-clock ms of 5 steps after 2 warm-up steps; also prints the calling thread's CPU ms, which a busy
    // machine inflates less (exact for one thread: OMP_NUM_THREADS=1 and --threads 1 run the kernels inline)
    private static double median(String name, Step step) {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        double[] ms = new double[5];
        double[] cpu = new double[5];
        for (int t = 1; t <= 7; t++) {
            long start = System.nanoTime();
            long cpuStart = bean.getCurrentThreadCpuTime();
            step.run(t);
            if (t > 2) {
                ms[t - 3] = (System.nanoTime() - start) / 1e6;
                cpu[t - 3] = (bean.getCurrentThreadCpuTime() - cpuStart) / 1e6;
            }
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        System.out.printf(Locale.ROOT, "%s_thread_cpu_ms=%.1f%n", name, cpu[2]);
        return ms[2];
    }
}
