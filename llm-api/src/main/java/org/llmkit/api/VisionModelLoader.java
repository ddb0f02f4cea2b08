package org.llmkit.api;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.llmkit.api.io.CheckpointFiles;
import org.llmkit.api.model.Architecture;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.CheckpointTensorSource;
import org.llmkit.api.model.DecoderModel;
import org.llmkit.api.model.TensorSource;
import org.llmkit.api.vision.ClipVisionTower;
import org.llmkit.api.vision.ImageProcessor;
import org.llmkit.api.vision.LlavaConfig;
import org.llmkit.api.vision.LlavaModel;
import org.llmkit.api.vision.MultiModalProjector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a LLaVA folder into a {@link VisionLanguageModel}. Checkpoints name the three parts with one of the
 * prefixes transformers has used: {@code vision_tower.vision_model.} / {@code vision_tower.} /
 * {@code model.vision_tower[.vision_model].}, {@code [model.]multi_modal_projector.}, and for the language model
 * {@code language_model.model.*} + {@code language_model.lm_head} (v4) or {@code model.language_model.*} +
 * {@code lm_head} (v4.52+).
 */
final class VisionModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(VisionModelLoader.class);
    private static final List<String> VISION_PREFIXES = List.of("vision_tower.vision_model.", "vision_tower.",
            "model.vision_tower.vision_model.", "model.vision_tower.");
    private static final List<String> PROJECTOR_PREFIXES = List.of("multi_modal_projector.",
            "model.multi_modal_projector.");

    private VisionModelLoader() { }

    static VisionLanguageModel load(Path folder, Device device, Path tokenizerPath) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new NoSuchFileException(folder.toString(), null, "model folder does not exist or is not a directory");
        }
        LlavaConfig config = LlavaConfig.load(folder.resolve("config.json"));
        Architecture arch = Architectures.of(config.text().modelType());
        Path preprocessor = folder.resolve("preprocessor_config.json");
        ImageProcessor processor;
        if (Files.isRegularFile(preprocessor)) {
            processor = ImageProcessor.load(preprocessor);
        } else {
            LOG.warn("{} has no preprocessor_config.json; using OpenAI CLIP preprocessing at {} pixels", folder,
                    config.vision().imageSize());
            processor = ImageProcessor.clip(config.vision().imageSize());
        }
        NDManager manager = Devices.newManager(device);
        DecoderModel decoder = null;
        try {
            decoder = new DecoderModel(config.text(), arch.spec(), manager, Precision.FP32, true);
            ClipVisionTower tower = new ClipVisionTower(config.vision(), manager);
            MultiModalProjector projector = new MultiModalProjector(config, manager);
            try (CheckpointFiles files = CheckpointFiles.open(folder)) {
                TensorSource source = new CheckpointTensorSource(files, folder, manager, decoder.tensorType());
                Set<String> used = new TreeSet<>();
                String vision = prefix(files.names(), VISION_PREFIXES, "embeddings.patch_embedding.weight", folder,
                        "vision tower");
                String proj = prefix(files.names(), PROJECTOR_PREFIXES, "linear_1.weight", folder, "projector");
                for (String name : tower.expectedShapes().keySet()) {
                    used.add(vision + name);
                    tower.setWeight(name, source.load(vision + name));
                }
                for (String name : projector.expectedShapes().keySet()) {
                    used.add(proj + name);
                    projector.setWeight(name, source.load(proj + name));
                }
                DecoderModel d = decoder;
                arch.layout().read(new Renamed(source, TextLayout.of(files.names(), folder), used), d.expectedShapes().keySet(), config.text(),
                        d::setWeight);
                Set<String> unused = new TreeSet<>(files.names());
                unused.removeAll(used);
                unused.removeIf(n -> n.contains("post_layernorm") || n.endsWith("rotary_emb.inv_freq")
                        || n.endsWith("position_ids"));
                if (!unused.isEmpty()) {
                    LOG.warn("{}: {} checkpoint tensor(s) are not used by the llava architecture: {}", folder,
                            unused.size(), unused.size() > 8 ? List.copyOf(unused).subList(0, 8) + " ..." : unused);
                }
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(folder, e.getMessage(), e);
            }
            List<String> missing = new ArrayList<>(decoder.missingWeights());
            tower.missingWeights().forEach(n -> missing.add("vision_tower." + n));
            projector.missingWeights().forEach(n -> missing.add("multi_modal_projector." + n));
            if (!missing.isEmpty()) {
                throw new ModelFormatException(folder, "missing tensor(s) " + missing);
            }
            Tokenizer tokenizer = tokenizerPath != null ? Tokenizer.load(tokenizerPath)
                    : Files.isRegularFile(folder.resolve("tokenizer.json")) ? Tokenizer.load(folder) : null;
            GenerationDefaults defaults = GenerationDefaults.read(folder, config.text());
            LanguageModel text = new LanguageModel(decoder, manager, tokenizer, defaults, Precision.FP32, folder);
            return new VisionLanguageModel(new LlavaModel(config, tower, projector, decoder), text, processor);
        } catch (IOException | RuntimeException e) {
            if (decoder != null) {
                decoder.close();
            }
            manager.close();
            throw e;
        }
    }

    private static String prefix(Set<String> names, List<String> candidates, String probe, Path folder, String part)
            throws ModelFormatException {
        for (String p : candidates) {
            if (names.contains(p + probe)) {
                return p;
            }
        }
        throw new ModelFormatException(folder, "the checkpoint has no " + part + " (looked for "
                + candidates.stream().map(p -> p + probe).toList() + ")");
    }

    /** How the decoder's names ({@code model.layers.0...}, {@code lm_head.weight}) sit in a LLaVA checkpoint. */
    private enum TextLayout {
        /** transformers 4.x: {@code language_model.model.*}, {@code language_model.lm_head.weight}. */
        NESTED,
        /** transformers 4.52+: {@code model.language_model.*}, {@code lm_head.weight}. */
        FLAT;

        static TextLayout of(Set<String> names, Path folder) throws ModelFormatException {
            if (names.contains("language_model.model.embed_tokens.weight")) {
                return NESTED;
            }
            if (names.contains("model.language_model.embed_tokens.weight")) {
                return FLAT;
            }
            throw new ModelFormatException(folder, "the checkpoint has no language model (looked for"
                    + " language_model.model.embed_tokens.weight and model.language_model.embed_tokens.weight)");
        }

        String checkpointName(String skeleton) {
            if (this == NESTED) {
                return "language_model." + skeleton;
            }
            return skeleton.startsWith("model.") ? "model.language_model." + skeleton.substring(6) : skeleton;
        }

        /** @return the decoder's name, or null for a tensor of another part */
        String skeletonName(String checkpoint) {
            if (this == NESTED) {
                return checkpoint.startsWith("language_model.") ? checkpoint.substring(15) : null;
            }
            if (checkpoint.startsWith("model.language_model.")) {
                return "model." + checkpoint.substring(21);
            }
            return checkpoint.equals("lm_head.weight") ? checkpoint : null;
        }
    }

    /** The checkpoint seen under the decoder's names; remembers which tensors were read. */
    private record Renamed(TensorSource delegate, TextLayout layout, Set<String> used) implements TensorSource {
        @Override
        public Set<String> names() {
            Set<String> out = new TreeSet<>();
            for (String n : delegate.names()) {
                String skeleton = layout.skeletonName(n);
                if (skeleton != null) {
                    out.add(skeleton);
                }
            }
            return out;
        }

        @Override
        public NDArray load(String name) throws IOException {
            String checkpoint = layout.checkpointName(name);
            used.add(checkpoint);
            return delegate.load(checkpoint);
        }
    }
}
