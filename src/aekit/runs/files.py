"""The names of the files and folders a run folder may hold."""

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "checkpoint.safetensors"
# the density a family without a prior of its own samples codes from (aekit.models.priors)
CODE_DENSITY_FILE = "code_density.json"
# the comparison with PCA on the run's held-out data (Comparison.to_dict), written by training
# and by `aekit evaluate RUN`
EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"  # the run's report (aekit.reports.run_report)
# The pictures (aekit.reports.run_pictures.RunPictures.available's names) and their files
PICTURE_FILES = {
    "loss": "loss.png",
    "codes": "codes.png",
    "reconstructions": "reconstructions.png",  # image data only
    "samples": "samples.png",  # image data only
    "interpolation": "interpolation.png",  # image data only
    "denoising": "denoising.png",  # image data trained with noise only
    "feature_errors": "feature_errors.png",  # tables only
}
# every run file's size and SHA-256, written last by each save (``runs.manifest``)
MANIFEST_FILE = "manifest.json"
# Every file an aekit run writes into its folder. Saving over a run removes those it does not
# write again, so the folder never mixes two runs; files of other names are never touched.
RUN_FILES = (
    CONFIG_FILE,
    WEIGHTS_FILE,
    METRICS_FILE,
    CHECKPOINT_FILE,
    CODE_DENSITY_FILE,
    EVALUATION_FILE,
    REPORT_FILE,
    *PICTURE_FILES.values(),
    MANIFEST_FILE,
)

# The writer's lock (``runs.lock``), held while a run, a sweep or a command writes the folder
LOCK_FILE = ".aekit.lock"
# Files being saved together, and the record that commits them (``runs.saving``)
SAVING_FOLDER = ".aekit-saving"
COMMIT_FILE = "commit.json"
# A run trained over the run saved in the folder (--overwrite, or more epochs for a finished
# run): its checkpoint and metrics live here until it is saved, so the saved run stays whole
NEXT_RUN_FOLDER = ".aekit-next-run"
