package org.llmkit.api;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.llmkit.api.io.CheckpointFiles;
import org.llmkit.api.model.Architecture;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.CheckpointTensorSource;
import org.llmkit.api.model.DecoderModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads a HuggingFace folder into a {@link LanguageModel}: config, weights, tokenizer, defaults, adapter. */
final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    private ModelLoader() { }

    static LanguageModel load(Path folder, Device device, Precision precision, Path adapter, boolean fused)
            throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new NoSuchFileException(folder.toString(), null, "model folder does not exist or is not a directory");
        }
        ModelConfig config = ModelConfig.load(folder.resolve("config.json"));
        Architecture arch = Architectures.of(config.modelType());
        NDManager manager = Devices.newManager(device);
        DecoderModel model = null;
        try {
            model = new DecoderModel(config, arch.spec(), manager, precision, fused);
            DecoderModel loaded = model;
            try (CheckpointFiles files = CheckpointFiles.open(folder)) {
                CheckpointTensorSource source = new CheckpointTensorSource(files, folder, manager, model.tensorType());
                Set<String> used = new TreeSet<>();
                arch.layout().read(new RecordingSource(source, used), model.expectedShapes().keySet(), config,
                        loaded::setWeight);
                Set<String> unused = new TreeSet<>(files.names());
                unused.removeAll(used);
                unused.removeIf(ModelLoader::isKnownBuffer);
                if (!unused.isEmpty()) {
                    LOG.warn("{}: {} checkpoint tensor(s) are not used by the {} architecture: {}", folder,
                            unused.size(), config.modelType(), unused.size() > 8 ? List.copyOf(unused).subList(0, 8)
                                    + " ..." : unused);
                }
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(folder, e.getMessage(), e);
            }
            List<String> missing = loaded.missingWeights();
            if (!missing.isEmpty()) {
                throw new ModelFormatException(folder, "missing tensor(s) " + missing);
            }
            Tokenizer tokenizer = Files.isRegularFile(folder.resolve("tokenizer.json")) ? Tokenizer.load(folder) : null;
            GenerationDefaults defaults = GenerationDefaults.read(folder, config);
            if (adapter != null) {
                LoraAdapters.load(model, adapter, manager);
            }
            return new LanguageModel(model, manager, tokenizer, defaults, precision, folder);
        } catch (IOException | RuntimeException e) {
            if (model != null) {
                model.close();
            }
            manager.close();
            throw e;
        }
    }

    /** Non-weight tensors some checkpoints carry (rotary caches, GPT-2's causal-mask buffers). */
    private static boolean isKnownBuffer(String name) {
        return name.endsWith("rotary_emb.inv_freq") || name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")
                || name.equals("lm_head.weight");
    }

    /** Remembers which checkpoint tensors the layout read. */
    private record RecordingSource(CheckpointTensorSource delegate, Set<String> used)
            implements org.llmkit.api.model.TensorSource {
        @Override
        public Set<String> names() {
            return delegate.names();
        }

        @Override
        public ai.djl.ndarray.NDArray load(String name) throws IOException {
            used.add(name);
            return delegate.load(name);
        }
    }
}
