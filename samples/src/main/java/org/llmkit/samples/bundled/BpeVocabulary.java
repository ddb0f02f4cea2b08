package org.llmkit.samples.bundled;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.llmkit.api.io.AtomicFiles;

/**
 * A trained byte-level BPE vocabulary, written as a HuggingFace tokenizer folder that
 * {@link org.llmkit.api.Tokenizer#load} (DJL's HuggingFace tokenizers) reads: {@code tokenizer.json} (ByteLevel
 * pre-tokenizer and decoder, BPE model, a post-processor that puts {@code <|begin_of_text|>} before each text),
 * {@code tokenizer_config.json} (special tokens) and {@code chat_template.jinja} (Llama-3-style headers).
 *
 * <p>Ids: the {@link #SPECIAL_TOKENS} first (0-5), then the 256 byte characters, then one token per merge.
 */
public final class BpeVocabulary {
    /** Beginning of a text, added by the post-processor. */
    public static final String BOS = "<|begin_of_text|>";
    /** End of a text: the separator between packed documents. */
    public static final String EOS = "<|end_of_text|>";
    /** End of a chat turn. */
    public static final String EOT = "<|eot_id|>";
    /** The special tokens, in id order. */
    public static final List<String> SPECIAL_TOKENS = List.of(BOS, EOS, "<|start_header_id|>",
            "<|end_header_id|>", EOT, "<|pad|>");

    private static final String CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}<|start_header_id|>"
            + "{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
            + "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";

    private final List<String> symbols;
    private final List<String[]> merges;

    BpeVocabulary(List<String> symbols, List<String[]> merges) {
        this.symbols = List.copyOf(symbols);
        this.merges = List.copyOf(merges);
    }

    /**
     * Returns the vocabulary size: special tokens, byte characters and merges.
     *
     * @return the number of ids
     */
    public int size() {
        return SPECIAL_TOKENS.size() + symbols.size();
    }

    /**
     * Returns the number of merges learned.
     *
     * @return the merges
     */
    public int mergeCount() {
        return merges.size();
    }

    /**
     * Returns the id of a special token.
     *
     * @param token one of {@link #SPECIAL_TOKENS}
     * @return its id
     */
    public static int specialId(String token) {
        int id = SPECIAL_TOKENS.indexOf(token);
        if (id < 0) {
            throw new IllegalArgumentException("not a special token: " + token + "; expected one of " + SPECIAL_TOKENS);
        }
        return id;
    }

    /**
     * Writes {@code tokenizer.json}, {@code tokenizer_config.json} and {@code chat_template.jinja}, each
     * atomically.
     *
     * @param folder the folder, created when missing
     * @return the folder
     * @throws IOException when writing fails
     */
    public Path writeTokenizer(Path folder) throws IOException {
        Files.createDirectories(folder);
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            added.addObject().put("id", i).put("content", SPECIAL_TOKENS.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject(BOS).put("id", BOS);
        bos.putArray("ids").add(specialId(BOS));
        bos.putArray("tokens").add(BOS);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false)
                .put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            vocab.put(SPECIAL_TOKENS.get(i), i);
        }
        for (int i = 0; i < symbols.size(); i++) {
            vocab.put(symbols.get(i), SPECIAL_TOKENS.size() + i);
        }
        ArrayNode mergeList = model.putArray("merges");
        for (String[] m : merges) {
            mergeList.addArray().add(m[0]).add(m[1]);
        }
        AtomicFiles.writeString(folder.resolve("tokenizer.json"), mapper.writeValueAsString(root));

        ObjectNode config = mapper.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("bos_token", BOS);
        config.put("eos_token", EOS);
        config.put("pad_token", "<|pad|>");
        config.put("model_max_length", 2048);
        config.put("clean_up_tokenization_spaces", false);
        AtomicFiles.writeString(folder.resolve("tokenizer_config.json"),
                mapper.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        AtomicFiles.writeString(folder.resolve("chat_template.jinja"), CHAT_TEMPLATE);
        return folder;
    }
}
