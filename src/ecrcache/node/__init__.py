"""What a Kubernetes node needs to pull through the cache under the images' original names.

Pure: from the config (and the account and region) to files, with no AWS call. ``mirrors``
decides which upstream host is mirrored to which cache prefix; ``containerd`` writes the
``hosts.toml`` files and the config fragments that make containerd read them; ``credprovider``
writes the kubelet credential provider config whose patterns send ECR tokens for those hosts;
``wrappers`` packs the files for a node type (AL2023 nodeadm, Bottlerocket, Karpenter);
``bundle`` puts it together. ``doctor/checks_node.py`` checks a node against the same data.
"""
