package org.llmkit.api.vision;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.llmkit.api.ModelFormatException;

/**
 * Turns images into the pixel values a vision tower takes, following a {@code preprocessor_config.json} as
 * transformers' {@code CLIPImageProcessor} does:
 * <ol>
 * <li>convert to RGB (alpha dropped, grey replicated; always, whatever {@code do_convert_rgb} says, since the
 *     vision tower takes three channels);</li>
 * <li>resize so that the shortest edge is {@code size.shortest_edge} (the other edge
 *     {@code int(shortest_edge * long / short)}), or to {@code size.height x size.width}, with Pillow's
 *     antialiased filter named by {@code resample} (3 = bicubic);</li>
 * <li>center-crop to {@code crop_size} (zero padding when the image is smaller);</li>
 * <li>rescale by {@code rescale_factor} (1/255) and normalise per channel: {@code (v - image_mean) / image_std}.</li>
 * </ol>
 * Each step runs only when its {@code do_*} flag is true. The resize reproduces transformers 5's torchvision
 * backend exactly by default, or Pillow's ({@link #backend(Backend)}). Immutable and thread-safe.
 */
public final class ImageProcessor {
    /**
     * Which transformers image-processor backend to reproduce; they resize alike but round the filter
     * coefficients differently, so that a few pixels differ by one grey level.
     */
    public enum Backend {
        /** torchvision (transformers 5's default image processors): PyTorch's uint8 antialiased resize. */
        TORCHVISION,
        /** Pillow ({@code Image.resize}, transformers 4's default "slow" image processors). */
        PILLOW
    }

    /** OpenAI CLIP's channel means, transformers' {@code OPENAI_CLIP_MEAN}. */
    private static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    /** OpenAI CLIP's channel standard deviations, transformers' {@code OPENAI_CLIP_STD}. */
    private static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    private final boolean resize;
    private final int shortestEdge;
    private final int resizeHeight;
    private final int resizeWidth;
    private final Resampler.Filter filter;
    private final boolean centerCrop;
    private final int cropHeight;
    private final int cropWidth;
    private final boolean rescale;
    private final double rescaleFactor;
    private final boolean normalize;
    private final double[] mean;
    private final double[] std;
    private final Backend backend;

    private ImageProcessor(boolean resize, int shortestEdge, int resizeHeight, int resizeWidth,
            Resampler.Filter filter, boolean centerCrop, int cropHeight, int cropWidth, boolean rescale,
            double rescaleFactor, boolean normalize, double[] mean, double[] std, Backend backend) {
        this.backend = backend;
        this.resize = resize;
        this.shortestEdge = shortestEdge;
        this.resizeHeight = resizeHeight;
        this.resizeWidth = resizeWidth;
        this.filter = filter;
        this.centerCrop = centerCrop;
        this.cropHeight = cropHeight;
        this.cropWidth = cropWidth;
        this.rescale = rescale;
        this.rescaleFactor = rescaleFactor;
        this.normalize = normalize;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /**
     * The OpenAI CLIP preprocessing for square inputs of {@code size} pixels: shortest edge to {@code size},
     * bicubic, center crop {@code size x size}, rescale 1/255, CLIP's mean and std.
     *
     * @param size the vision tower's {@code image_size}, &gt; 0
     * @return the processor
     */
    public static ImageProcessor clip(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be > 0 but is " + size);
        }
        return new ImageProcessor(true, size, -1, -1, Resampler.Filter.BICUBIC, true, size, size, true, 1 / 255.0,
                true, CLIP_MEAN, CLIP_STD, Backend.TORCHVISION);
    }

    /**
     * Reads a {@code preprocessor_config.json}.
     *
     * @param file the file
     * @return the processor
     * @throws IOException when missing or unreadable; {@link ModelFormatException} naming the file and the field
     *     when a value is malformed or a step is not supported
     */
    public static ImageProcessor load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "preprocessor_config.json not found");
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new ModelFormatException(file, "expected a JSON object");
        }
        boolean resize = n.path("do_resize").asBoolean(true);
        int shortest = -1;
        int height = -1;
        int width = -1;
        JsonNode size = n.get("size");
        if (resize) {
            if (size == null || size.isNull()) {
                throw new ModelFormatException(file, "do_resize is true but 'size' is missing");
            } else if (size.isInt()) {
                shortest = size.asInt();
            } else if (size.has("shortest_edge")) {
                shortest = size.get("shortest_edge").asInt();
            } else if (size.has("height") && size.has("width")) {
                height = size.get("height").asInt();
                width = size.get("width").asInt();
            } else {
                throw new ModelFormatException(file, "size " + size + " is not supported; expected"
                        + " {\"shortest_edge\": N} or {\"height\": H, \"width\": W}");
            }
            if (shortest == 0 || height == 0 || width == 0 || shortest < -1 || height < -1 || width < -1) {
                throw new ModelFormatException(file, "size " + size + " must be positive");
            }
        }
        Resampler.Filter filter;
        try {
            filter = Resampler.Filter.ofPil(n.path("resample").asInt(3));
        } catch (UnsupportedOperationException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
        boolean crop = n.path("do_center_crop").asBoolean(true);
        int cropHeight = -1;
        int cropWidth = -1;
        if (crop) {
            JsonNode c = n.get("crop_size");
            if (c == null || c.isNull()) {
                throw new ModelFormatException(file, "do_center_crop is true but 'crop_size' is missing");
            } else if (c.isInt()) {
                cropHeight = c.asInt();
                cropWidth = c.asInt();
            } else if (c.has("height") && c.has("width")) {
                cropHeight = c.get("height").asInt();
                cropWidth = c.get("width").asInt();
            } else {
                throw new ModelFormatException(file, "crop_size " + c + " is not supported; expected N or"
                        + " {\"height\": H, \"width\": W}");
            }
            if (cropHeight <= 0 || cropWidth <= 0) {
                throw new ModelFormatException(file, "crop_size " + c + " must be positive");
            }
        }
        boolean normalize = n.path("do_normalize").asBoolean(true);
        double[] mean = triple(file, n, "image_mean", CLIP_MEAN);
        double[] std = triple(file, n, "image_std", CLIP_STD);
        for (double s : std) {
            if (!(s > 0)) {
                throw new ModelFormatException(file, "image_std values must be > 0 but are " + n.get("image_std"));
            }
        }
        return new ImageProcessor(resize, shortest, height, width, filter, crop, cropHeight, cropWidth,
                n.path("do_rescale").asBoolean(true), n.path("rescale_factor").asDouble(1 / 255.0), normalize, mean, std,
                Backend.TORCHVISION);
    }

    /**
     * Returns a processor that resizes as the given backend does (the default is {@link Backend#TORCHVISION}).
     *
     * @param b the backend to reproduce
     * @return a copy with it
     */
    public ImageProcessor backend(Backend b) {
        return new ImageProcessor(resize, shortestEdge, resizeHeight, resizeWidth, filter, centerCrop, cropHeight,
                cropWidth, rescale, rescaleFactor, normalize, mean, std, java.util.Objects.requireNonNull(b, "backend"));
    }

    /** @return the backend whose resize this processor reproduces */
    public Backend backend() {
        return backend;
    }

    private static double[] triple(Path file, JsonNode n, String field, double[] fallback) throws ModelFormatException {
        JsonNode a = n.get(field);
        if (a == null || a.isNull()) {
            return fallback;
        }
        if (a.isNumber()) {
            return new double[] {a.asDouble(), a.asDouble(), a.asDouble()};
        }
        if (!a.isArray() || a.size() != 3) {
            throw new ModelFormatException(file, field + " must be a number or a list of 3 numbers (R, G, B) but is " + a);
        }
        return new double[] {a.get(0).asDouble(), a.get(1).asDouble(), a.get(2).asDouble()};
    }

    /**
     * Decodes an image file with the JDK's ImageIO (PNG, JPEG, BMP, GIF, WBMP).
     *
     * @param file the file
     * @return the image
     * @throws IOException when the file is missing; {@link ImageFormatException} naming it when it cannot be decoded
     */
    public static BufferedImage read(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "image file not found");
        }
        return decode(Files.readAllBytes(file), file.toString());
    }

    /**
     * Decodes an encoded image (PNG, JPEG, BMP, GIF, WBMP).
     *
     * @param encoded the file's bytes
     * @return the image
     * @throws ImageFormatException when the bytes are no image ImageIO can decode
     */
    public static BufferedImage read(byte[] encoded) throws ImageFormatException {
        Objects.requireNonNull(encoded, "encoded");
        return decode(encoded, "image bytes (" + encoded.length + " bytes)");
    }

    private static BufferedImage decode(byte[] bytes, String source) throws ImageFormatException {
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException(source, "not a readable image (" + e.getMessage() + ")", e);
        }
        if (image == null) {
            throw new ImageFormatException(source, "not a readable image: no ImageIO decoder recognises it"
                    + " (supported: PNG, JPEG, BMP, GIF, WBMP)");
        }
        return image;
    }

    /**
     * Decodes and preprocesses an image file.
     *
     * @param file the file
     * @return pixel values {@code [3][H][W]}
     * @throws IOException when the file is missing or not a readable image (the message names it)
     */
    public float[][][] apply(Path file) throws IOException {
        return apply(read(file));
    }

    /**
     * Decodes and preprocesses an encoded image.
     *
     * @param encoded PNG, JPEG, BMP, GIF or WBMP bytes
     * @return pixel values {@code [3][H][W]}
     * @throws ImageFormatException when the bytes are not a readable image
     */
    public float[][][] apply(byte[] encoded) throws ImageFormatException {
        return apply(read(encoded));
    }

    /**
     * Preprocesses an image.
     *
     * @param image any image ImageIO or AWT made
     * @return pixel values {@code [3][H][W]} (channels R, G, B), H and W the crop size (or the resize size)
     */
    public float[][][] apply(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        int w = image.getWidth();
        int h = image.getHeight();
        int[][] planes = rgb(image);
        if (resize) {
            int outW;
            int outH;
            if (shortestEdge > 0) {
                // transformers' get_resize_output_image_size(default_to_square=False)
                boolean wide = w >= h;
                int shortSide = wide ? h : w;
                int longSide = wide ? w : h;
                int newLong = (int) ((long) shortestEdge * longSide / shortSide);
                outW = wide ? newLong : shortestEdge;
                outH = wide ? shortestEdge : newLong;
            } else {
                outW = resizeWidth;
                outH = resizeHeight;
            }
            for (int c = 0; c < 3; c++) {
                planes[c] = Resampler.resize(planes[c], w, h, outW, outH, filter, backend);
            }
            w = outW;
            h = outH;
        }
        int outH = centerCrop ? cropHeight : h;
        int outW = centerCrop ? cropWidth : w;
        int top = centerCrop ? cropOffset(h, cropHeight) : 0;
        int left = centerCrop ? cropOffset(w, cropWidth) : 0;
        float[][][] out = new float[3][outH][outW];
        for (int c = 0; c < 3; c++) {
            double scale = rescale ? rescaleFactor : 1.0;
            double m = normalize ? mean[c] : 0.0;
            double s = normalize ? std[c] : 1.0;
            for (int y = 0; y < outH; y++) {
                int sy = y + top;
                for (int x = 0; x < outW; x++) {
                    int sx = x + left;
                    int v = sy >= 0 && sy < h && sx >= 0 && sx < w ? planes[c][sy * w + sx] : 0;
                    out[c][y][x] = (float) ((float) (v * scale) - m) / (float) s;
                }
            }
        }
        return out;
    }

    // where the crop starts in the image (negative: zero padding before the image)
    private int cropOffset(int size, int crop) {
        if (backend == Backend.PILLOW || size < crop) {
            // transformers' center_crop: (size - crop) // 2; torchvision pads (crop - size) // 2 before the image
            return backend == Backend.PILLOW ? Math.floorDiv(size - crop, 2) : -((crop - size) / 2);
        }
        return (int) Math.rint((size - crop) / 2.0);            // torchvision: int(round(...)), half to even
    }

    /** @return the height of the pixel values {@link #apply} makes, or -1 when it follows the image */
    public int outputHeight() {
        return centerCrop ? cropHeight : resize && shortestEdge < 0 ? resizeHeight : -1;
    }

    /** @return the width of the pixel values {@link #apply} makes, or -1 when it follows the image */
    public int outputWidth() {
        return centerCrop ? cropWidth : resize && shortestEdge < 0 ? resizeWidth : -1;
    }

    // three row-major planes of 0..255; grey images keep their values (AWT's getRGB would apply a gamma curve)
    private static int[][] rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[][] planes = new int[3][w * h];
        Raster raster = image.getRaster();
        boolean grey = image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && raster.getNumBands() <= 2;
        if (grey) {
            int bits = image.getColorModel().getComponentSize(0);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = bits == 8 ? row[x] : bits > 8 ? row[x] >> (bits - 8) : row[x] * 255 / ((1 << bits) - 1);
                    planes[0][y * w + x] = v;
                    planes[1][y * w + x] = v;
                    planes[2][y * w + x] = v;
                }
            }
            return planes;
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < argb.length; i++) {
            planes[0][i] = (argb[i] >> 16) & 0xff;
            planes[1][i] = (argb[i] >> 8) & 0xff;
            planes[2][i] = argb[i] & 0xff;
        }
        return planes;
    }
}
