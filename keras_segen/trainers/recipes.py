"""Generation recipes: which builders, which trainer, which optimizers (registered data).

A recipe names its networks in the order the trainer takes them, the trainer class, the
run values the trainer takes, and the papers' Adam settings. ``keras-segen train-gan
--model NAME`` and ``keras_segen.train_generation(NAME)`` read it; nothing here imports
Keras, so the command line can list recipes quickly.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Network:
    """One network of a recipe: a registered builder, its width option and fixed arguments.

    ``width`` names the run option that sets the builder's ``filters``: ``"filters"`` for
    generators and decoders, ``"d_filters"`` for discriminators and encoders.
    """

    builder: str
    width: str
    arguments: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class GenerationRecipe:
    """A trainable generation setup.

    Attributes:
        name: the ``--model`` name.
        description: one line for ``keras-segen list``.
        trainer: class name in ``keras_segen.trainers``.
        networks: the trainer's networks, in its argument order.
        trainer_arguments: fixed trainer arguments (loss, critic steps, ...).
        run_arguments: run values the trainer takes (``ema``, ``seed``, ``num_classes``).
        learning_rate: the Adam learning rate (a run may override it): the paper's, or
            where that learned too slowly for a CPU budget, the measured one.
        d_learning_rate: the discriminator's rate where it differs (two time-scale
            updates, Heusel et al. 2017); ``None``: ``learning_rate``.
        betas: Adam ``(beta_1, beta_2)``.
        optimizers: Adam instances the trainer's ``compile`` takes (one per network for
            adversarial trainers).
        data: ``"images"``, ``"labelled_images"`` (class-conditional) or ``"label_maps"``
            (label map -> image pairs from a segmentation dataset).
        paper: where the settings come from.
        dataset, image_size, epochs, num_examples, batch_size, latent_dim, filters,
        d_filters, ema: the run values the recipe's documented command uses when the user
            gives none (``None``: the run's own default). They are measured to draw
            recognisable samples in a few CPU minutes: ``benchmarks/gan_recipes.py``
            (``benchmarks/results/gan_recipes.md``).

    Example:
        >>> recipe = keras_segen.trainers.get_recipe("wgan-gp")
        >>> recipe.trainer, recipe.trainer_arguments, recipe.learning_rate, recipe.betas
        ('GAN', {'loss': 'wgan-gp', 'd_steps': 2}, 0.0005, (0.0, 0.9))
        >>> recipe.epochs, recipe.num_examples, recipe.batch_size, recipe.filters
        (20, 3000, 32, 64)
    """

    name: str
    description: str
    trainer: str
    networks: tuple
    trainer_arguments: dict
    run_arguments: tuple
    learning_rate: float
    betas: tuple
    optimizers: int
    data: str
    paper: str
    dataset: str = None
    image_size: int = None
    epochs: int = None
    num_examples: int = None
    batch_size: int = None
    latent_dim: int = None
    filters: int = None
    d_filters: int = None
    ema: float = None
    d_learning_rate: float = None

    @property
    def conditional(self):
        """Whether the recipe trains on class labels or label maps."""
        return self.data != "images"


RECIPES = {}


def register_recipe(recipe):
    """Adds a ``GenerationRecipe`` under its name (a name may be registered once)."""
    if recipe.name in RECIPES:
        raise ValueError(f"A generation recipe named {recipe.name!r} is already registered.")
    RECIPES[recipe.name] = recipe
    return recipe


def list_recipes():
    """The names of the generation recipes, in registration order.

    Example:
        >>> keras_segen.trainers.list_recipes()
        ['dcgan', 'wgan-gp', 'cgan', 'vae', 'pix2pix', 'spade']
    """
    return list(RECIPES)


def get_recipe(name):
    """The ``GenerationRecipe`` called ``name``; unknown names raise ``ValueError``.

    Example:
        >>> [network.builder for network in keras_segen.trainers.get_recipe("pix2pix").networks]
        ['pix2pix_generator', 'patchgan_discriminator']
    """
    if name not in RECIPES:
        raise ValueError(f"model must be one of {tuple(RECIPES)}; got {name!r}.")
    return RECIPES[name]


# Nearest-neighbour upsampling in the generators: no checkerboard, and at the CPU budget
# FID 0.27 against 0.40 with the paper's transposed convolutions (docs/training.md).
NEAREST = {"upsampling": "nearest", "kernel_size": 3}
# The GANs' budget: ~4,700 steps of batch 16 with a wide generator and a narrow, cheaper
# discriminator; the paper's 2e-4 and the builders' 128/64 widths on 1000 images collapsed.
GAN_BUDGET = dict(dataset="shapes", image_size=32, epochs=15, num_examples=5000, batch_size=16,
                  latent_dim=64, filters=64, d_filters=32, ema=0.99)  # fmt: skip

register_recipe(GenerationRecipe(
    name="dcgan",
    description="DCGAN: BCE loss, nearest upsampling, Adam(5e-4, 0.5), EMA 0.99",
    trainer="GAN",
    networks=(
        Network("dcgan_generator", "filters", NEAREST),
        Network("dcgan_discriminator", "d_filters"),
    ),
    trainer_arguments={"loss": "bce", "d_steps": 1},
    run_arguments=("ema", "seed"),
    learning_rate=5e-4, betas=(0.5, 0.999), optimizers=2, data="images",
    paper="Radford, Metz & Chintala, ICLR 2016", **GAN_BUDGET,
))  # fmt: skip
register_recipe(GenerationRecipe(
    name="wgan-gp",
    description="WGAN-GP: LayerNorm critic, 2 critic steps (paper: 5) on their own halves "
    "of each batch, Adam(5e-4, 0, 0.9)",
    trainer="GAN",
    networks=(
        Network("dcgan_generator", "filters", NEAREST),
        Network("dcgan_discriminator", "d_filters", {"norm": "layer"}),
    ),
    trainer_arguments={"loss": "wgan-gp", "d_steps": 2},
    run_arguments=("ema", "seed"),
    learning_rate=5e-4, betas=(0.0, 0.9), optimizers=2, data="images",
    paper="Gulrajani et al., Improved Training of Wasserstein GANs, NeurIPS 2017",
    # Batch 32 = two critic batches of 16: 1,880 generator steps, as many images per step.
    **{**GAN_BUDGET, "epochs": 20, "num_examples": 3000, "batch_size": 32},
))  # fmt: skip
register_recipe(GenerationRecipe(
    name="cgan",
    description="class-conditional GAN, projection discriminator, Adam(5e-4, 0.5), EMA 0.99",
    trainer="ConditionalGAN",
    networks=(
        Network("conditional_generator", "filters", NEAREST),
        Network("conditional_discriminator", "d_filters"),
    ),
    trainer_arguments={},
    run_arguments=("num_classes", "ema", "seed"),
    learning_rate=5e-4, betas=(0.5, 0.999), optimizers=2, data="labelled_images",
    paper="Mirza & Osindero, arXiv 2014", **GAN_BUDGET,
))  # fmt: skip
register_recipe(GenerationRecipe(
    name="vae",
    description="convolutional VAE, Adam(1e-3)",
    trainer="VAE",
    networks=(Network("vae_encoder", "d_filters"), Network("vae_decoder", "filters")),
    trainer_arguments={},
    run_arguments=("seed",),
    learning_rate=1e-3, betas=(0.9, 0.999), optimizers=1, data="images",
    paper="Kingma & Welling, ICLR 2014",
    dataset="shapes", image_size=32, epochs=30, num_examples=3000, batch_size=16,
    latent_dim=32, filters=64, d_filters=32,
))  # fmt: skip
register_recipe(GenerationRecipe(
    name="pix2pix",
    description="label map -> image: U-Net generator, 70x70 PatchGAN, L1 100, Adam(2e-4, 0.5)",
    trainer="Pix2Pix",
    networks=(
        Network("pix2pix_generator", "filters"),
        Network("patchgan_discriminator", "d_filters"),
    ),
    trainer_arguments={},
    run_arguments=("num_classes",),
    learning_rate=2e-4, betas=(0.5, 0.999), optimizers=2, data="label_maps",
    paper="Isola, Zhu, Zhou & Efros, CVPR 2017",
    dataset="shapes_coloured", image_size=64, epochs=10, num_examples=1500, batch_size=16,
    filters=16, d_filters=16,
))  # fmt: skip
register_recipe(GenerationRecipe(
    name="spade",
    description="label map -> image: SPADE generator, 2-scale PatchGAN, hinge + feature "
    "matching 10, TTUR Adam(1e-4 G / 4e-4 D, 0, 0.9)",
    trainer="GauGAN",
    networks=(
        # 16 channels in each SPADE layer's shared convolution (the paper: 128, most of the
        # time on a CPU); the ``spade_generator`` builder keeps 128.
        Network("spade_generator", "filters", {"hidden": 16}),
        Network("spade_discriminator", "d_filters"),
    ),
    trainer_arguments={},
    run_arguments=("num_classes",),
    learning_rate=1e-4, d_learning_rate=4e-4, betas=(0.0, 0.9), optimizers=2, data="label_maps",
    paper="Park, Liu, Wang & Zhu, CVPR 2019",
    dataset="shapes_coloured", image_size=64, epochs=10, num_examples=1500, batch_size=16,
    filters=8, d_filters=8,
))  # fmt: skip
