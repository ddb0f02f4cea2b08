package org.llmkit.train.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Locale;
import org.llmkit.api.tensor.ScriptModule;
import org.llmkit.api.tensor.TorchScriptArchive;

/**
 * Forward + backward time of one float32 linear layer through libtorch's {@code torch.linear} (MKL sgemm on
 * CPU) and through oneDNN's differentiable inner product ({@code mkldnn_linear} between {@code to_mkldnn} and
 * {@code to_dense}, whose backward is {@code mkldnn_linear_backward}), and how far their gradients differ.
 * A benchmark, not a test: run it by hand on an idle machine.
 *
 * <pre>
 * LinearKernelBenchmark [ROWS=1024] [IN=384] [OUT=1024] [REPEATS=10]
 * </pre>
 */
public final class LinearKernelBenchmark {
    private static final List<String> METHODS = List.of("dense", "onednn");

    private LinearKernelBenchmark() { }

    /**
     * Runs the benchmark.
     *
     * @param args rows, in, out, repeats
     */
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int in = args.length > 1 ? Integer.parseInt(args[1]) : 384;
        int out = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
        int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        TorchScriptArchive archive = TorchScriptArchive.of("LinearKernels", List.of(
                "def dense(self, x: Tensor, w: Tensor) -> Tensor:\n    return torch.linear(x, w)\n",
                "def onednn(self, x: Tensor, w: Tensor) -> Tensor:\n"
                        + "    return torch.to_dense(torch.mkldnn_linear(torch.to_mkldnn(x), w))\n"));
        try (ScriptModule module = ScriptModule.load(archive, METHODS);
                NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(rows, in));
            NDArray w = m.randomNormal(new Shape(out, in));
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            float[][] weightGrads = new float[2][];
            for (int round = 0; round < 2; round++) {
                for (int k = 0; k < 2; k++) {
                    long best = Long.MAX_VALUE;
                    for (int i = 0; i < repeats; i++) {
                        try (NDManager scratch = m.newSubManager()) {
                            long start = System.nanoTime();
                            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                                gc.backward(module.call(METHODS.get(k), x, w).sum());
                            }
                            best = Math.min(best, System.nanoTime() - start);
                            weightGrads[k] = w.getGradient().toFloatArray();
                            JniUtils.zeroGrad((PtNDArray) w);
                            JniUtils.zeroGrad((PtNDArray) x);
                        }
                    }
                    double gflops = 6.0 * rows * in * out / best;
                    System.out.printf(Locale.ROOT, "%s_%dx%dx%d_fwd_bwd_ms=%.2f (%.1f GFLOP/s)%n", METHODS.get(k),
                            rows, in, out, best / 1e6, gflops);
                }
            }
            double worst = 0;
            for (int i = 0; i < weightGrads[0].length; i++) {
                worst = Math.max(worst, Math.abs(weightGrads[0][i] - weightGrads[1][i]) / (1 + Math.abs(weightGrads[0][i])));
            }
            System.out.printf(Locale.ROOT, "weight_grad_max_rel_diff=%.2e%n", worst);
        }
    }
}
