package org.llmkit.api.model;

import static org.llmkit.api.model.HostArrays.accumulateGradient;
import static org.llmkit.api.model.HostArrays.floats;
import static org.llmkit.api.model.HostArrays.pt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.FloatBuffer;

/**
 * Embedding lookups on the host: {@code x[r] = Σ_i table_i[ids_i[r]]} (token embeddings, plus learned positions
 * where the model has them), a leaf whose gradient's rows are added back into each trainable table's
 * {@code .grad}, row by row. Autograd's embedding backward makes a dense table-sized gradient first (zeroed, rows
 * added, then added to the {@code .grad}): three passes over 98 MB for a 32000 × 768 table, ~95 ms of an m100
 * full fine-tuning step here, where the rows themselves are 1020 × 768.
 */
final class TapedEmbedding implements BlasTape.Step {
    private final NDArray[] tables;
    private final long[][] ids;
    private final NDArray x;

    private TapedEmbedding(NDArray[] tables, long[][] ids, NDArray x) {
        this.tables = tables;
        this.ids = ids;
        this.x = x;
    }

    /**
     * Looks the rows up.
     *
     * @param manager where the result lives
     * @param shape the positions' shape (the result has one more axis, the tables' width)
     * @param tables each {@code [V_i, C]} float32
     * @param ids each table's row for every position, in row-major order of {@code shape}
     * @return the step; its {@link #output()} records gradients when some table does
     * @throws IllegalArgumentException when the tables' widths differ, or an id is outside its table
     */
    static TapedEmbedding lookUp(NDManager manager, Shape shape, NDArray[] tables, long[][] ids) {
        int width = (int) tables[0].getShape().get(1);
        int rows = (int) shape.size();
        boolean trains = false;
        for (int i = 0; i < tables.length; i++) {
            Shape t = tables[i].getShape();
            if (t.dimension() != 2 || t.get(1) != width) {
                throw new IllegalArgumentException("embedding table " + t + " is not [rows, " + width + "]");
            }
            if (ids[i].length != rows) {
                throw new IllegalArgumentException(rows + " positions but " + ids[i].length + " ids");
            }
            for (int r = 0; r < rows; r++) {
                if (ids[i][r] < 0 || ids[i][r] >= t.get(0)) {
                    throw new IllegalArgumentException("id " + ids[i][r] + " at position " + r
                            + " is outside the embedding table of " + t.get(0) + " rows");
                }
            }
            trains |= JniUtils.requiresGrad(pt(tables[i]));
        }
        NDArray x = manager.create(shape.addAll(new Shape(width)), DataType.FLOAT32);
        FloatBuffer xs = floats(x);
        float[] row = new float[width];
        for (int i = 0; i < tables.length; i++) {
            FloatBuffer ts = floats(tables[i]);
            for (int r = 0; r < rows; r++) {
                int from = (int) ids[i][r] * width;
                if (i == 0) {
                    xs.put(r * width, ts, from, width);
                } else {
                    xs.get(r * width, row);
                    for (int c = 0; c < width; c++) {
                        row[c] += ts.get(from + c);
                    }
                    xs.put(r * width, row);
                }
            }
        }
        x.setRequiresGradient(trains);
        return new TapedEmbedding(tables, ids, x);
    }

    /** @return the looked-up rows {@code [..., C]}, a leaf */
    NDArray output() {
        return x;
    }

    // each trainable table's .grad[ids[r]] += dx[r]: in place when the gradient exists as a contiguous float32
    // array (from the second step on, as optimizers zero gradients in place), else through a zeroed temporary
    @Override
    public void backward(NDManager manager) {
        NDArray dx = JniUtils.getGradient(pt(x));
        if (dx == null) {
            return;
        }
        FloatBuffer g = floats(dx);
        for (int i = 0; i < tables.length; i++) {
            NDArray table = tables[i];
            if (!JniUtils.requiresGrad(pt(table))) {
                continue;
            }
            NDArray grad = JniUtils.getGradient(pt(table));
            boolean inPlace = grad != null && grad.getDataType() == DataType.FLOAT32
                    && grad.getShape().equals(table.getShape()) && TorchTensors.isContiguous(grad);
            if (!inPlace) {
                if (grad != null) {
                    grad.close();
                }
                grad = manager.zeros(table.getShape(), DataType.FLOAT32);
            }
            addRows(g, ids[i], floats(grad), (int) table.getShape().get(1));
            if (!inPlace) {
                accumulateGradient(table, grad);
            }
            grad.close();
        }
        dx.close();
    }

    private static void addRows(FloatBuffer g, long[] ids, FloatBuffer grad, int width) {
        float[] row = new float[width];
        float[] sum = new float[width];
        for (int r = 0; r < ids.length; r++) {
            int to = (int) ids[r] * width;
            g.get(r * width, row);
            grad.get(to, sum);
            for (int c = 0; c < width; c++) {
                sum[c] += row[c];
            }
            grad.put(to, sum);
        }
    }
}
