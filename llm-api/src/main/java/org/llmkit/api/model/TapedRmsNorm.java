package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;

/**
 * RMSNorm on the host, {@code y = w · (x · r)} with {@code r = 1 / sqrt(mean(x²) + eps)} per row (HF's
 * {@code LlamaRMSNorm} in float32), a leaf whose gradient the linear layer reading it hands over
 * ({@link BlasTape.Producer}). Its backward computes {@code dx = r · (w dy - n · mean(w dy · n))} with
 * {@code n = x r}, adds {@code Σ_rows dy · n} to the weight's {@code .grad} when it trains, and sends {@code dx}
 * into autograd. Autograd's RMSNorm ran 6 libtorch passes forward and ~10 backward over the rows; this runs one
 * forward and two backward, each row's sums accumulated in double. On an input whose gradient goes nowhere (layer
 * 0's, when the embedding tables are frozen, as in LoRA) it computes no {@code dx}, as autograd would not, and
 * when the weight is frozen too it wants no gradient at all ({@link #wantsGradient}).
 */
final class TapedRmsNorm extends HandedOutput {
    private final NDArray x;
    private final FloatBuffer xs;
    private final NDArray weight;
    private final float[] w;
    private final float[] r;
    private final int width;
    private final boolean inputInGraph;

    private TapedRmsNorm(NDArray x, FloatBuffer xs, NDArray weight, float[] w, float[] r, NDArray y, int width,
            boolean inputInGraph) {
        super(y);
        this.inputInGraph = inputInGraph;
        this.x = x;
        this.xs = xs;
        this.weight = weight;
        this.w = w;
        this.r = r;
        this.width = width;
    }

    /**
     * @param manager where the result lives
     * @param x {@code [..., C]} float32, in the graph
     * @param weight {@code [C]} float32
     * @param eps added to the mean square
     * @return the step; its {@link #output()} is the normalized {@code x}, a leaf
     * @throws IllegalArgumentException when the weight is not {@code [C]}
     */
    static TapedRmsNorm forward(NDManager manager, NDArray x, NDArray weight, double eps) {
        return forward(manager, x, weight, eps, true);
    }

    /**
     * @param manager where the result lives
     * @param x {@code [..., C]} float32
     * @param weight {@code [C]} float32
     * @param eps added to the mean square
     * @param inputInGraph whether {@code x}'s gradient is wanted (false: a leaf whose gradient goes nowhere)
     * @return the step; its {@link #output()} is the normalized {@code x}, a leaf
     * @throws IllegalArgumentException when the weight is not {@code [C]}
     */
    static TapedRmsNorm forward(NDManager manager, NDArray x, NDArray weight, double eps, boolean inputInGraph) {
        int width = (int) x.getShape().get(x.getShape().dimension() - 1);
        if (weight.getShape().dimension() != 1 || weight.getShape().get(0) != width) {
            throw new IllegalArgumentException("an RMSNorm weight " + weight.getShape() + " for inputs of " + width);
        }
        int rows = (int) (x.size() / width);
        FloatBuffer xs = floats(x);
        float[] w = new float[width];
        floats(weight).get(0, w);
        float[] r = new float[rows];
        NDArray y = manager.create(x.getShape(), DataType.FLOAT32);
        FloatBuffer ys = floats(y);
        GemmWorkers.split(rows, (from, to) -> {
            float[] row = new float[width];
            for (int i = from; i < to; i++) {
                xs.get(i * width, row);
                float ri = (float) (1 / Math.sqrt(dot(row, row) / width + eps));
                r[i] = ri;
                for (int c = 0; c < width; c++) {
                    row[c] = w[c] * (row[c] * ri);
                }
                ys.put(i * width, row);
            }
        });
        y.setRequiresGradient(true);
        return new TapedRmsNorm(x, xs, weight, w, r, y, width, inputInGraph);
    }

    @Override
    public boolean wantsGradient() {
        return inputInGraph || JniUtils.requiresGrad(pt(weight));
    }

    @Override
    public void backward(NDManager manager) {
        NDArray dy = outputGradient();
        if (dy == null) {
            return;
        }
        int c = width;
        int rows = r.length;
        boolean trains = JniUtils.requiresGrad(pt(weight));
        NDArray dx = inputInGraph ? manager.create(x.getShape(), DataType.FLOAT32) : null;
        FloatBuffer dxs = dx == null ? null : floats(dx);
        FloatBuffer dys = floats(dy);
        // the weight's gradient as one partial sum per part, added in the parts' order (the same every run)
        int parts = Math.max(1, Math.min(rows, OpenBlas.threads()));
        float[][] dw = new float[parts][];
        GemmWorkers.forEach(parts, p -> {
            int from = (int) ((long) rows * p / parts);
            int to = (int) ((long) rows * (p + 1) / parts);
            float[] xr = new float[c];
            float[] g = new float[c];
            float[] sums = trains ? new float[c] : null;
            for (int i = from; i < to; i++) {
                xs.get(i * c, xr);
                dys.get(i * c, g);
                float ri = r[i];
                if (sums != null) {
                    for (int k = 0; k < c; k++) {
                        sums[k] += g[k] * (xr[k] * ri);
                    }
                }
                if (dxs == null) {
                    continue;
                }
                for (int k = 0; k < c; k++) {
                    g[k] *= w[k];
                }
                // dx = r (g - n mean(g n)), n = x r: the mean as (r / C) Σ g x
                float m = (float) (dot(g, xr) * ri / c);
                for (int k = 0; k < c; k++) {
                    g[k] = ri * (g[k] - xr[k] * ri * m);
                }
                dxs.put(i * c, g);
            }
            dw[p] = sums;
        });
        if (trains) {
            HostArrays.accumulateProduct(manager, weight, (grad, beta) -> {
                for (int k = 0; k < c; k++) {
                    float sum = beta == 0f ? 0f : grad.get(k);
                    for (float[] part : dw) {
                        sum += part[k];
                    }
                    grad.put(k, sum);
                }
            });
        }
        dy.close();
        if (dx != null) {
            JniUtils.backward(pt(x), pt(dx), true, false);
            dx.close();
        }
    }

    // Σ u v, in four double sums
    private static double dot(float[] u, float[] v) {
        double a = 0;
        double b = 0;
        double c = 0;
        double d = 0;
        int k = 0;
        for (; k + 3 < u.length; k += 4) {
            a += u[k] * v[k];
            b += u[k + 1] * v[k + 1];
            c += u[k + 2] * v[k + 2];
            d += u[k + 3] * v[k + 3];
        }
        for (; k < u.length; k++) {
            a += u[k] * v[k];
        }
        return a + b + c + d;
    }
}
