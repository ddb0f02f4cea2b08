package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * AdamW moments on disk, big-endian: {@code int count}, then per trainable parameter {@code UTF name},
 * {@code int n}, {@code n} floats of {@code m}, {@code n} floats of {@code v} (float32, exact).
 */
final class OptimizerFile {
    private OptimizerFile() { }

    static void write(Path file, AdamW optimizer, TrainableSet trainable) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(optimizer.firstMoments().size());
            for (TrainableSet.Entry e : trainable.entries()) {
                NDArray m = optimizer.firstMoments().get(e.name());
                if (m == null) {
                    continue;
                }
                out.writeUTF(e.name());
                float[] mv = m.toFloatArray();
                float[] vv = optimizer.secondMoments().get(e.name()).toFloatArray();
                out.writeInt(mv.length);
                for (float f : mv) {
                    out.writeFloat(f);
                }
                for (float f : vv) {
                    out.writeFloat(f);
                }
            }
        }
    }

    static void read(Path file, AdamW optimizer, long steps, TrainableSet trainable) throws IOException {
        Map<String, Shape> shapes = new HashMap<>();
        trainable.entries().forEach(e -> shapes.put(e.name(), e.array().getShape()));
        Map<String, float[]> first = new HashMap<>();
        Map<String, float[]> second = new HashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int count = in.readInt();
            for (int k = 0; k < count; k++) {
                String name = in.readUTF();
                int n = in.readInt();
                Shape shape = shapes.get(name);
                if (shape == null || shape.size() != n) {
                    throw new IOException(file + ": optimizer state for '" + name + "' (" + n
                            + " values) does not fit the model's trainable parameters");
                }
                first.put(name, floats(in, n));
                second.put(name, floats(in, n));
            }
        }
        optimizer.restore(steps, first, second, shapes);
    }

    private static float[] floats(DataInputStream in, int n) throws IOException {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = in.readFloat();
        }
        return values;
    }
}
