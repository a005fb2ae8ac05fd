/** LLaVA's constants (`llava/constants.py`), shared by the data path. */

/** The text marker of the image in a conversation. */
export const IMAGE_TOKEN = "<image>";
/** LLaVA's placeholder id for the image, used when the vocabulary has no `<image>` token; never embedded. */
export const IMAGE_TOKEN_INDEX = -200;
/** Labels with this value are ignored by the loss. */
export const IGNORE_INDEX = -100;
