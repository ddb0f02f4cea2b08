package org.llmkit.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Image-text pairs for vision-language fine-tuning and evaluation (captions, visual question answering): each
 * example names its image files, an optional prompt and the target text. Read from JSON Lines, one object per line:
 * <pre>
 * {"image": "img/cat.png", "text": "a cat on a mat"}
 * {"images": ["a.jpg", "b.jpg"], "prompt": "USER: &lt;image&gt; vs &lt;image&gt;: which is larger? ASSISTANT:", "text": "the first"}
 * </pre>
 * Relative image paths resolve against the JSONL file's folder. A prompt marks each image with {@code <image>};
 * without a placeholder the images come first. Only paths are held (images are decoded when used); every image
 * file must exist when the dataset is read. Immutable.
 */
public final class ImageTextDataset {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Example> examples;

    /**
     * One image-text pair.
     *
     * @param images the image files, in placeholder order; at least one
     * @param prompt the prompt (may hold {@code <image>} placeholders), possibly empty
     * @param text the target text (the caption or answer); not empty
     */
    public record Example(List<Path> images, String prompt, String text) {
        /**
         * Validates and copies.
         *
         * @param images the image files, at least one
         * @param prompt the prompt, not null
         * @param text the target text, not empty
         * @throws IllegalArgumentException for no image or an empty text
         */
        public Example {
            images = List.copyOf(images);
            Objects.requireNonNull(prompt, "prompt");
            Objects.requireNonNull(text, "text");
            if (images.isEmpty()) {
                throw new IllegalArgumentException("an image-text example needs at least one image");
            }
            if (text.isEmpty()) {
                throw new IllegalArgumentException("an image-text example needs a non-empty text");
            }
        }

        /**
         * An example with one image and no prompt.
         *
         * @param image the image file
         * @param text the target text
         * @return the example
         */
        public static Example of(Path image, String text) {
            return new Example(List.of(image), "", text);
        }
    }

    private ImageTextDataset(List<Example> examples) {
        this.examples = List.copyOf(examples);
    }

    /**
     * Wraps examples held in memory.
     *
     * @param examples the examples, at least one
     * @return the dataset
     * @throws IllegalArgumentException when empty
     */
    public static ImageTextDataset of(List<Example> examples) {
        if (examples == null || examples.isEmpty()) {
            throw new IllegalArgumentException("an image-text dataset needs at least one example");
        }
        return new ImageTextDataset(examples);
    }

    /**
     * Reads a JSON Lines file of {@code {"image" | "images", "prompt"?, "text"}} objects.
     *
     * @param file the file
     * @return the dataset
     * @throws IOException when the file is missing; {@link DataFormatException} naming the file and line for a
     *     line that is not such an object or an image file that does not exist
     */
    public static ImageTextDataset jsonl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "image-text JSONL file not found");
        }
        Path base = file.toAbsolutePath().getParent();
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (!line.isBlank()) {
                    out.add(parse(file, number, line, base));
                }
            }
        }
        if (out.isEmpty()) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, "file holds no JSON records");
        }
        return new ImageTextDataset(out);
    }

    private static Example parse(Path file, long line, String text, Path base) throws DataFormatException {
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                    "not a JSON object: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw new DataFormatException(file, line, DataFormatException.MALFORMED, "not a JSON object");
        }
        List<String> names = new ArrayList<>();
        if (n.hasNonNull("image") && n.get("image").isTextual()) {
            names.add(n.get("image").asText());
        } else if (n.hasNonNull("images") && n.get("images").isArray()) {
            for (JsonNode e : n.get("images")) {
                if (!e.isTextual()) {
                    throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                            "\"images\" must list file paths (strings) but holds " + e);
                }
                names.add(e.asText());
            }
        }
        if (names.isEmpty()) {
            throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD,
                    "no image: expected \"image\": \"path\" or \"images\": [\"path\", ...]; the record has fields "
                            + fieldNames(n));
        }
        if (!n.hasNonNull("text") || !n.get("text").isTextual() || n.get("text").asText().isEmpty()) {
            throw new DataFormatException(file, line, DataFormatException.MISSING_FIELD,
                    "no target text: expected a non-empty string field \"text\"; the record has fields " + fieldNames(n));
        }
        if (n.has("prompt") && !n.get("prompt").isTextual() && !n.get("prompt").isNull()) {
            throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                    "\"prompt\" must be a string but is " + n.get("prompt"));
        }
        List<Path> images = new ArrayList<>();
        for (String name : names) {
            Path p = base.resolve(name);
            if (!Files.isRegularFile(p)) {
                throw new DataFormatException(file, line, DataFormatException.MALFORMED,
                        "image '" + name + "' does not exist (resolved to " + p + ")");
            }
            images.add(p);
        }
        return new Example(images, n.path("prompt").asText(""), n.get("text").asText());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** @return the number of examples */
    public int size() {
        return examples.size();
    }

    /**
     * @param index in {@code [0, size())}
     * @return the example
     */
    public Example get(int index) {
        return examples.get(index);
    }

    /** @return every example, in order */
    public List<Example> examples() {
        return examples;
    }
}
