package org.llmkit.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.llmkit.api.model.NoGradient;

/**
 * The FP32 master weights of a model loaded in FP16 or BF16, in a checkpoint (the model folder beside it
 * holds only their rounded copies). Big-endian, like {@link OptimizerFile}: {@code int count}, then per
 * parameter {@code UTF name}, {@code int n}, {@code n} floats.
 */
final class MasterFile {
    static final String NAME = "master_weights.bin";

    private MasterFile() { }

    static void write(Path file, TrainableSet masters) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(masters.entries().size());
            for (TrainableSet.Entry e : masters.entries()) {
                float[] values = e.array().toFloatArray();
                out.writeUTF(e.name());
                out.writeInt(values.length);
                for (float f : values) {
                    out.writeFloat(f);
                }
            }
        }
    }

    /**
     * Overwrites the masters with the saved values.
     *
     * @param file the saved masters
     * @param masters the FP32 copies made from the resumed model
     * @throws IOException when the file does not hold exactly these parameters
     */
    static void read(Path file, TrainableSet masters) throws IOException {
        Map<String, NDArray> byName = new HashMap<>();
        masters.entries().forEach(e -> byName.put(e.name(), e.array()));
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)));
                NoGradient off = NoGradient.scope()) {
            int count = in.readInt();
            if (count != byName.size()) {
                throw new IOException(file + " holds " + count + " master weights but the run trains " + byName.size());
            }
            for (int k = 0; k < count; k++) {
                String name = in.readUTF();
                int n = in.readInt();
                NDArray master = byName.get(name);
                if (master == null || master.getShape().size() != n) {
                    throw new IOException(file + ": master weight '" + name + "' (" + n
                            + " values) does not fit the model's trainable parameters");
                }
                float[] values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = in.readFloat();
                }
                try (NDArray saved = TorchArrays.owned(master.getManager(), values, master.getShape())) {
                    master.set(new NDIndex("..."), saved);
                }
            }
        }
    }
}
